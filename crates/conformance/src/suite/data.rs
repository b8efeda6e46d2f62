//! The object store: streamed uploads, listings, heads, ranges, deletion
//! and the two restores.

use std::collections::BTreeMap;
use std::io::Read;
use std::ops::ControlFlow;

use tablero_core::ports::{put_bytes, ErrorKind, RestoreState};
use tablero_core::store::Bucket;

use super::{key, refused, Harness, Persona};

/// A body that hands out at most `chunk` bytes per read, like a socket.
struct Trickle<'a> {
    bytes: &'a [u8],
    chunk: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.chunk.min(buf.len()).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

fn body(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

/// A 3 MiB upload arrives in small reads: progress is reported more than
/// once, in order, up to the whole length, and the object reads back
/// exactly, with its metadata.
pub fn put_streams_with_progress(h: &dyn Harness) {
    let b = h.backend(Persona::Admin);
    let bytes = body(3 << 20);
    let meta = BTreeMap::from([("source_name".to_string(), "big.bin".to_string())]);
    let mut seen: Vec<(u64, u64)> = Vec::new();
    let info = b
        .store
        .put(
            Bucket::Raw,
            &key("streams/big.bin"),
            &mut Trickle {
                bytes: &bytes,
                chunk: 64 << 10,
            },
            bytes.len() as u64,
            &meta,
            &mut |done, total| {
                seen.push((done, total));
                ControlFlow::Continue(())
            },
        )
        .expect("put");
    assert!(seen.len() >= 2, "progress is reported as it goes: {seen:?}");
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "{seen:?}");
    assert!(seen.iter().all(|&(_, total)| total == bytes.len() as u64));
    assert_eq!(seen.last(), Some(&(bytes.len() as u64, bytes.len() as u64)));
    assert_eq!(info.size, bytes.len() as u64);
    assert_eq!(info.metadata, meta);
    assert_eq!(
        b.store
            .read(Bucket::Raw, &key("streams/big.bin"))
            .expect("read"),
        bytes
    );
}

/// Stopping an upload from its progress leaves nothing: no new object, the
/// object it would have replaced intact, nothing in listings.
pub fn an_aborted_put_leaves_nothing(h: &dyn Harness) {
    let b = h.backend(Persona::Admin);
    let bytes = body(2 << 20);
    let mut abort = |done: u64, _| {
        if done > 0 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let k = key("aborted/new.bin");
    refused(
        b.store.put(
            Bucket::Raw,
            &k,
            &mut Trickle {
                bytes: &bytes,
                chunk: 64 << 10,
            },
            bytes.len() as u64,
            &BTreeMap::new(),
            &mut abort,
        ),
        ErrorKind::Cancelled,
        "cancelled",
    );
    refused(
        b.store.head(Bucket::Raw, &k),
        ErrorKind::NotFound,
        "new.bin",
    );
    let listed = b
        .store
        .list(Bucket::Raw, "aborted/", None, 100)
        .expect("list");
    assert!(listed.objects.is_empty(), "{listed:?}");

    // Replacing: the old object survives an aborted replacement.
    let old = key("aborted/old.bin");
    let meta = BTreeMap::from([("v".to_string(), "1".to_string())]);
    put_bytes(b.store.as_ref(), Bucket::Raw, &old, b"version one", &meta).expect("put v1");
    refused(
        b.store.put(
            Bucket::Raw,
            &old,
            &mut Trickle {
                bytes: &bytes,
                chunk: 64 << 10,
            },
            bytes.len() as u64,
            &BTreeMap::from([("v".to_string(), "2".to_string())]),
            &mut abort,
        ),
        ErrorKind::Cancelled,
        "cancelled",
    );
    assert_eq!(
        b.store.read(Bucket::Raw, &old).expect("read"),
        b"version one"
    );
    assert_eq!(
        b.store.head(Bucket::Raw, &old).expect("head").metadata,
        meta
    );
}

/// A body shorter or longer than announced is refused, and stores nothing.
pub fn a_put_of_the_wrong_length_leaves_nothing(h: &dyn Harness) {
    let b = h.backend(Persona::Admin);
    let k = key("length/x.bin");
    for (sent, announced) in [(10usize, 20u64), (20, 10)] {
        let bytes = body(sent);
        let err = b
            .store
            .put(
                Bucket::Raw,
                &k,
                &mut bytes.as_slice(),
                announced,
                &BTreeMap::new(),
                &mut |_, _| ControlFlow::Continue(()),
            )
            .expect_err("a wrong length is refused");
        assert!(err.to_string().contains("nothing was stored"), "{err}");
        refused(b.store.head(Bucket::Raw, &k), ErrorKind::NotFound, "x.bin");
    }
}

/// Paged listings give every object under the prefix once, in key order,
/// and the last page has no token.
pub fn listing_pages_cover_every_object_once(h: &dyn Harness) {
    let b = h.backend(Persona::Admin);
    let mut keys: Vec<String> = (0..25)
        .map(|i| format!("batch/{:02}/part.csv", (i * 7) % 25))
        .collect();
    for k in &keys {
        put_bytes(
            b.store.as_ref(),
            Bucket::Clean,
            &key(k),
            k.as_bytes(),
            &BTreeMap::new(),
        )
        .expect("put");
    }
    put_bytes(
        b.store.as_ref(),
        Bucket::Clean,
        &key("other.csv"),
        b"x",
        &BTreeMap::new(),
    )
    .expect("put");
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = b
            .store
            .list(Bucket::Clean, "batch/", token.as_deref(), 7)
            .expect("list");
        pages += 1;
        assert!(page.objects.len() <= 7);
        seen.extend(page.objects.into_iter().map(|o| o.key));
        match page.next_token {
            Some(t) => token = Some(t),
            None => break,
        }
        assert!(pages < 100, "the listing never ends");
    }
    assert_eq!(pages, 4);
    keys.sort();
    assert_eq!(seen, keys);
    // Another bucket sees none of them.
    assert!(b
        .store
        .list(Bucket::Raw, "", None, 100)
        .expect("list")
        .objects
        .is_empty());
}

/// `head` tells size, modification time (RFC 3339), storage class and
/// metadata, as a listing does.
pub fn head_tells_size_time_class_and_metadata(h: &dyn Harness) {
    let b = h.backend(Persona::Admin);
    let meta = BTreeMap::from([("ingest".to_string(), "{}".to_string())]);
    let before = chrono::Utc::now() - chrono::Duration::seconds(5);
    put_bytes(
        b.store.as_ref(),
        Bucket::Models,
        &key("g/v1/model.json"),
        b"{\"m\":1}",
        &meta,
    )
    .expect("put");
    let info = b
        .store
        .head(Bucket::Models, &key("g/v1/model.json"))
        .expect("head");
    assert_eq!(
        (info.bucket, info.key.as_str(), info.size),
        (Bucket::Models, "g/v1/model.json", 7)
    );
    assert!(!info.storage_class.is_empty());
    let modified = chrono::DateTime::parse_from_rfc3339(&info.modified).expect("RFC 3339");
    assert!(modified >= before, "{}", info.modified);
    assert_eq!(info.metadata, meta);
    let listed = b.store.list(Bucket::Models, "g/", None, 10).expect("list");
    assert_eq!(listed.objects, vec![info]);
}

/// Range reads return exactly the bytes asked for, fewer at the end; a
/// file the store hands out (`open_file`) holds the object's bytes, and
/// still does after the object is replaced.
pub fn range_reads_are_exact(h: &dyn Harness) {
    let b = h.backend(Persona::Admin);
    let bytes = body(10_000);
    let k = key("ranges/b.bin");
    put_bytes(
        b.store.as_ref(),
        Bucket::Clean,
        &k,
        &bytes,
        &BTreeMap::new(),
    )
    .expect("put");
    for (start, len) in [
        (0u64, 4u64),
        (17, 3),
        (9_990, 100),
        (10_000, 5),
        (0, 10_000),
    ] {
        let got = b
            .store
            .read_range(Bucket::Clean, &k, start, len)
            .expect("range");
        let from = (start as usize).min(bytes.len());
        let to = ((start + len) as usize).min(bytes.len());
        assert_eq!(got, bytes[from..to], "{start}+{len}");
    }
    if let Some(mut file) = b.store.open_file(Bucket::Clean, &k).expect("open file") {
        put_bytes(
            b.store.as_ref(),
            Bucket::Clean,
            &k,
            b"replaced",
            &BTreeMap::new(),
        )
        .expect("replace");
        let mut got = Vec::new();
        std::io::Read::read_to_end(&mut file, &mut got).expect("read file");
        assert_eq!(got, bytes, "the open file is the object as it was");
    }
}

/// Every way of touching an absent object says `not_found`, naming it.
pub fn missing_objects_are_not_found(h: &dyn Harness) {
    let b = h.backend(Persona::Admin);
    let k = key("nowhere/x.csv");
    refused(b.store.head(Bucket::Raw, &k), ErrorKind::NotFound, "x.csv");
    refused(b.store.read(Bucket::Raw, &k), ErrorKind::NotFound, "x.csv");
    refused(
        b.store.read_range(Bucket::Raw, &k, 0, 10),
        ErrorKind::NotFound,
        "x.csv",
    );
    // A store without files says so (`None`) whatever the key.
    if !matches!(b.store.open_file(Bucket::Raw, &k), Ok(None)) {
        refused(
            b.store.open_file(Bucket::Raw, &k),
            ErrorKind::NotFound,
            "x.csv",
        );
    }
    refused(
        b.store.delete(Bucket::Raw, &k),
        ErrorKind::NotFound,
        "x.csv",
    );
}

/// Deleting keeps the object where `restore_deleted` takes it back, with
/// its metadata; newest deletion first; never over an object that took
/// its key; ids that name nothing are refused.
pub fn a_deleted_object_comes_back_from_the_trash(h: &dyn Harness) {
    let b = h.backend(Persona::Admin);
    let k = key("2011/s.csv");
    let meta = BTreeMap::from([("ingest".to_string(), "{\"v\":1}".to_string())]);
    put_bytes(b.store.as_ref(), Bucket::Raw, &k, b"first", &meta).expect("put");
    let first = b.store.delete(Bucket::Raw, &k).expect("delete");
    assert_eq!(
        (first.bucket, first.key.as_str(), first.size),
        (Bucket::Raw, "2011/s.csv", 5)
    );
    refused(b.store.head(Bucket::Raw, &k), ErrorKind::NotFound, "s.csv");
    assert!(b
        .store
        .list(Bucket::Raw, "", None, 10)
        .expect("list")
        .objects
        .is_empty());

    put_bytes(
        b.store.as_ref(),
        Bucket::Raw,
        &k,
        b"second!",
        &BTreeMap::new(),
    )
    .expect("put");
    let second = b.store.delete(Bucket::Raw, &k).expect("delete");
    let trash = b.store.trash().expect("trash");
    let ids: Vec<&str> = trash.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, [second.id.as_str(), first.id.as_str()], "newest first");
    assert!(trash[0].deleted_at >= trash[1].deleted_at);

    let info = b.store.restore_deleted(&first.id).expect("restore");
    assert_eq!((info.size, &info.metadata), (5, &meta));
    assert_eq!(b.store.read(Bucket::Raw, &k).expect("read"), b"first");
    refused(
        b.store.restore_deleted(&second.id),
        ErrorKind::Refused,
        "exists now",
    );
    assert_eq!(
        b.store.trash().expect("trash").len(),
        1,
        "a refused restore keeps its entry"
    );
    for bad in [
        "raw",
        "raw/../../x/s.csv",
        "nope/t/s.csv",
        "raw/20000101T000000Z/none.csv",
    ] {
        assert!(b.store.restore_deleted(bad).is_err(), "{bad}");
    }
}

/// Asking to restore an object that is not archived is refused in words
/// (`unsupported` where nothing is ever archived), never a silent success.
pub fn restoring_an_object_that_is_not_archived_is_refused(h: &dyn Harness) {
    let b = h.backend(Persona::Admin);
    let k = key("warm.csv");
    put_bytes(b.store.as_ref(), Bucket::Raw, &k, b"x", &BTreeMap::new()).expect("put");
    let err = b
        .store
        .restore_archived(Bucket::Raw, &k, 1)
        .expect_err("nothing to restore");
    assert!(
        matches!(err.kind(), ErrorKind::Unsupported | ErrorKind::Refused),
        "{err}"
    );
    assert!(!err.to_string().is_empty());
    refused(
        b.store.restore_archived(Bucket::Raw, &key("absent.csv"), 1),
        ErrorKind::NotFound,
        "absent.csv",
    );
}

/// An archived object is shown as such, its restore is requested, and it
/// reads again once restored.
pub fn archived_object_is_restored(h: &dyn Harness) {
    let b = h.backend(Persona::Admin);
    let k = key("cold/2010.csv");
    put_bytes(
        b.store.as_ref(),
        Bucket::Raw,
        &k,
        b"old sales",
        &BTreeMap::new(),
    )
    .expect("put");
    assert!(
        h.archive(Bucket::Raw, &k),
        "this harness cannot archive objects: ignore this case"
    );
    let info = b.store.head(Bucket::Raw, &k).expect("head");
    assert_ne!(info.storage_class, "STANDARD", "shown as archived");
    let restore = b
        .store
        .restore_archived(Bucket::Raw, &k, 2)
        .expect("restore");
    assert_eq!(
        (restore.bucket, restore.key.as_str(), restore.days),
        (Bucket::Raw, "cold/2010.csv", 2)
    );
    assert!(matches!(
        restore.state,
        RestoreState::Requested | RestoreState::Restored
    ));
}
