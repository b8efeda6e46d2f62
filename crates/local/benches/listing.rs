//! Listing a bucket of 1,000,000 objects: the first page, a page from the
//! middle (by its token), and a page after a file was added by hand
//! (which walks the folder again). The objects are made once, by hand,
//! in `$TMPDIR/tablero-bench-listing-1m` and kept for later runs.
//!
//! `cargo bench -p tablero-local --bench listing`

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant;

use tablero_core::ports::{put_bytes, ObjectStore};
use tablero_core::store::{Bucket, ObjectKey};
use tablero_local::Workspace;

const OBJECTS: usize = 1_000_000;
const PAGE: usize = 1000;

fn main() {
    // Made (once) and indexed before any timing.
    workspace();
    divan::main();
}

fn key(i: usize) -> String {
    // A thousand folders of a thousand files.
    format!("day-{:04}/part-{:07}.csv", i / 1000, i)
}

fn workspace() -> &'static Workspace {
    static WS: OnceLock<Workspace> = OnceLock::new();
    WS.get_or_init(|| {
        let root: PathBuf = std::env::temp_dir().join("tablero-bench-listing-1m");
        let done = root.join(".complete");
        if !done.is_file() {
            let _ = std::fs::remove_dir_all(&root);
            let ws = Workspace::init(&root.join("ws")).expect("init");
            let raw = ws.root().join("buckets/raw");
            let t = Instant::now();
            for i in 0..OBJECTS {
                let path = raw.join(key(i));
                if i % 1000 == 0 {
                    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
                }
                std::fs::write(&path, b"").expect("write");
            }
            eprintln!(
                "made {OBJECTS} objects by hand in {:.1} s",
                t.elapsed().as_secs_f64()
            );
            std::fs::write(&done, b"").expect("marker");
        }
        let ws = Workspace::open(&root.join("ws")).expect("open");
        let t = Instant::now();
        let page = ws.store().list(Bucket::Raw, "", None, PAGE).expect("list");
        assert_eq!(page.objects.len(), PAGE);
        eprintln!(
            "first listing (index built or checked): {:.2} s",
            t.elapsed().as_secs_f64()
        );
        ws
    })
}

#[divan::bench(sample_count = 20)]
fn first_page() {
    let ws = workspace();
    let page = ws.store().list(Bucket::Raw, "", None, PAGE).expect("list");
    assert_eq!(page.objects[0].key, key(0));
}

#[divan::bench(sample_count = 20)]
fn middle_page() {
    let ws = workspace();
    let token = key(OBJECTS / 2);
    let page = ws
        .store()
        .list(Bucket::Raw, "", Some(&token), PAGE)
        .expect("list");
    assert_eq!(page.objects[0].key, key(OBJECTS / 2 + 1));
}

#[divan::bench(sample_count = 20)]
fn page_under_a_prefix() {
    let ws = workspace();
    let page = ws
        .store()
        .list(Bucket::Raw, "day-0777/", None, PAGE)
        .expect("list");
    assert_eq!(page.objects.len(), 1000);
}

/// An upload through the store lands in the index without a walk: the
/// next page stays fast.
#[divan::bench(sample_count = 5)]
fn put_then_first_page() {
    let ws = workspace();
    let k = ObjectKey::new("day-0000/added.csv").expect("key");
    put_bytes(ws.store(), Bucket::Raw, &k, b"x", &BTreeMap::new()).expect("put");
    let page = ws.store().list(Bucket::Raw, "", None, PAGE).expect("list");
    assert_eq!(page.objects.len(), PAGE);
    ws.store().delete(Bucket::Raw, &k).expect("delete");
}

/// A file added by hand changes its folder's time: the next listing reads
/// the bucket's folders again (the cost of keeping the index honest).
#[divan::bench(sample_count = 3)]
fn page_after_a_file_added_by_hand() {
    let ws = workspace();
    let path = ws.root().join("buckets/raw/day-0500/by-hand.csv");
    std::fs::write(&path, b"x").expect("write");
    let page = ws.store().list(Bucket::Raw, "", None, PAGE).expect("list");
    assert_eq!(page.objects.len(), PAGE);
    std::fs::remove_file(&path).expect("remove");
}
