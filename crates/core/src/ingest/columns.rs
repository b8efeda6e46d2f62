//! The canonical columns, the user's `--map`, and how a file's columns
//! map to them ([`IngestSpec`]).

use super::*;

/// The canonical columns every stage works with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Canonical {
    /// Who bought (required; missing values are dropped by the clean stage).
    CustomerId,
    /// When (required).
    InvoiceDate,
    /// How many units (required).
    Quantity,
    /// Price of one unit (required unless `amount` is given).
    UnitPrice,
    /// Line total (required unless `unit_price` is given).
    Amount,
    /// Order id (optional: when absent each row is one order).
    InvoiceId,
    /// Product id (optional).
    ProductId,
    /// Product description (optional).
    Description,
    /// Country (optional).
    Country,
}

impl Canonical {
    /// Every canonical column, in output order.
    pub const ALL: [Canonical; 9] = [
        Canonical::InvoiceId,
        Canonical::ProductId,
        Canonical::Description,
        Canonical::Quantity,
        Canonical::InvoiceDate,
        Canonical::UnitPrice,
        Canonical::Amount,
        Canonical::CustomerId,
        Canonical::Country,
    ];

    /// The snake_case name used in mappings, reports and the clean output.
    pub fn name(self) -> &'static str {
        match self {
            Canonical::CustomerId => "customer_id",
            Canonical::InvoiceDate => "invoice_date",
            Canonical::Quantity => "quantity",
            Canonical::UnitPrice => "unit_price",
            Canonical::Amount => "amount",
            Canonical::InvoiceId => "invoice_id",
            Canonical::ProductId => "product_id",
            Canonical::Description => "description",
            Canonical::Country => "country",
        }
    }

    /// Parses a canonical name as written in `--map`.
    pub fn from_name(s: &str) -> Option<Canonical> {
        Canonical::ALL.into_iter().find(|c| c.name() == s.trim())
    }

    /// The header names recognised without a mapping, normalised (lower
    /// case, letters and digits only).
    pub(super) fn aliases(self) -> &'static [&'static str] {
        match self {
            Canonical::CustomerId => &[
                "customerid",
                "customer",
                "customerno",
                "customernumber",
                "custid",
                "clientid",
                "client",
            ],
            Canonical::InvoiceDate => &[
                "invoicedate",
                "date",
                "orderdate",
                "transactiondate",
                "purchasedate",
                "timestamp",
                "datetime",
            ],
            Canonical::Quantity => &["quantity", "qty", "units"],
            Canonical::UnitPrice => &["unitprice", "price", "priceperunit", "unitcost"],
            Canonical::Amount => &[
                "amount",
                "linetotal",
                "total",
                "totalvalue",
                "totalprice",
                "sales",
                "revenue",
            ],
            Canonical::InvoiceId => &[
                "invoiceno",
                "invoice",
                "invoiceid",
                "invoicenumber",
                "orderid",
                "orderno",
                "ordernumber",
                "transactionid",
            ],
            Canonical::ProductId => &[
                "stockcode",
                "productid",
                "product",
                "sku",
                "itemid",
                "productcode",
                "itemcode",
            ],
            Canonical::Description => &["description", "productname", "itemname", "desc"],
            Canonical::Country => &["country", "countryname"],
        }
    }
}

impl fmt::Display for Canonical {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses a `--map` value: `"Customer ID=customer_id,Price=unit_price"`.
pub fn parse_mapping(s: &str) -> Result<Vec<(String, Canonical)>, IngestError> {
    let mut out = Vec::new();
    for part in s.split(',').filter(|p| !p.trim().is_empty()) {
        let (header, canon) = part
            .split_once('=')
            .ok_or_else(|| IngestError::BadMapping {
                entry: part.to_string(),
                reason: "expected HEADER=canonical_name".into(),
            })?;
        let c = Canonical::from_name(canon).ok_or_else(|| IngestError::BadMapping {
            entry: part.to_string(),
            reason: format!(
                "{:?} is not a canonical column; use one of {}",
                canon.trim(),
                Canonical::ALL.map(|c| c.name()).join(", ")
            ),
        })?;
        out.push((header.trim().to_string(), c));
    }
    Ok(out)
}

/// One mapped column of a stored upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MappedColumn {
    /// The header as found in the file.
    pub column: String,
    /// What it means.
    pub canonical: Canonical,
    /// `given` (from `--map`) or `alias` (recognised by name).
    pub how: String,
}

/// How to read a stored raw object: fixed at upload, stored beside it, and
/// used by every later read so all stages agree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IngestSpec {
    /// The file's encoding.
    pub encoding: Encoding,
    /// The delimiter, as a one-character string (`","`, `";"`, `"\t"`, `"|"`).
    pub delimiter: String,
    /// The date format of `invoice_date`.
    pub date_format: String,
    /// The header as found.
    pub columns: Vec<String>,
    /// Header → canonical column.
    pub mapping: Vec<MappedColumn>,
}

impl IngestSpec {
    pub(super) fn delimiter_byte(&self) -> u8 {
        self.delimiter.as_bytes().first().copied().unwrap_or(b',')
    }

    /// The header mapped to `c`, if any.
    pub fn column_for(&self, c: Canonical) -> Option<&str> {
        self.mapping
            .iter()
            .find(|m| m.canonical == c)
            .map(|m| m.column.as_str())
    }
}
