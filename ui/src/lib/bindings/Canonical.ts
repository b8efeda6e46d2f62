// Mirrors tablero_core::ingest::Canonical (serde, snake_case).

export type Canonical =
  | "customer_id"
  | "invoice_date"
  | "quantity"
  | "unit_price"
  | "amount"
  | "invoice_id"
  | "product_id"
  | "description"
  | "country";
