//! No reply can make the OpenLM XML reader hold more than a small multiple of the reply's own
//! size, whatever its shape. Peak heap use is counted by a global allocator of this test
//! binary (one test only, so nothing else allocates meanwhile).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use gislicense::openlm::xml;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// What malloc really uses for a block: at least 32 bytes, in steps of 16.
fn charged(size: usize) -> usize {
    size.max(24).div_ceil(16) * 16 + 8
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now =
            CURRENT.fetch_add(charged(layout.size()), Ordering::SeqCst) + charged(layout.size());
        PEAK.fetch_max(now, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(charged(layout.size()), Ordering::SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peak bytes held while reading `reply`, beyond what was held before.
fn peak_while_reading(reply: &str) -> usize {
    let before = CURRENT.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let message = xml::read(reply.as_bytes());
    let peak = PEAK.load(Ordering::SeqCst) - before;
    drop(message);
    peak
}

fn reply(body: &str) -> String {
    format!(r#"<ULM><MESSAGE type="GetActiveProducts"/>{body}</ULM>"#)
}

#[test]
fn the_reader_holds_at_most_a_small_multiple_of_the_reply() {
    let rows = 100_000;
    let shapes: Vec<(&str, String)> = vec![
        ("tiny records", reply(&r#"<P a=""/>"#.repeat(rows))),
        (
            "records with their own names",
            reply(
                &(0..rows)
                    .map(|i| format!(r#"<P a{i}="" b{i}="x"/>"#))
                    .collect::<String>(),
            ),
        ),
        (
            "records with their own tags",
            reply(
                &(0..rows)
                    .map(|i| format!(r#"<T{i} a=""/>"#))
                    .collect::<String>(),
            ),
        ),
        ("text elements", reply(&"<a>x</a>".repeat(rows))),
        ("whitespace elements", reply(&"<a> </a>".repeat(rows))),
        ("params", reply(&r#"<PARAM name="">x</PARAM>"#.repeat(rows))),
        ("empty params", reply(&r#"<PARAM name=""/>"#.repeat(rows))),
        (
            "one element, many attributes",
            reply(&format!(
                "<P {}/>",
                (0..rows)
                    .map(|i| format!(r#"a{i}="" "#))
                    .collect::<String>()
            )),
        ),
        (
            "message attributes",
            format!(
                r#"<ULM><MESSAGE type="x" {}/></ULM>"#,
                (0..rows)
                    .map(|i| format!(r#"a{i}="" "#))
                    .collect::<String>()
            ),
        ),
        (
            "entities",
            reply(&format!("<a>{}</a>", "&#65;&lt;&x;".repeat(rows))),
        ),
        (
            "deep nesting",
            reply(&format!("{}{}", "<a>".repeat(rows), "</a>".repeat(rows))),
        ),
        (
            "nesting to the limit, many times",
            reply(&format!("{}{}", "<a>".repeat(250), "</a>".repeat(250)).repeat(400)),
        ),
    ];
    // Tiny elements cost most: a 9-byte `<P a=""/>` is a record of four fields and two
    // blocks, and vectors grow by doubling. Everything is linear; this is the constant.
    const LIMIT: usize = 24;
    let mut report = Vec::new();
    let mut failed = false;
    for (shape, reply) in &shapes {
        let peak = peak_while_reading(reply);
        let ratio = peak as f64 / reply.len() as f64;
        report.push(format!(
            "{shape}: {} bytes, peak {peak} ({ratio:.1}x)",
            reply.len()
        ));
        failed |= peak > LIMIT * reply.len() + (1 << 20);
    }
    let report = report.join("\n");
    eprintln!("{report}");
    assert!(!failed, "more than {LIMIT}x the reply:\n{report}");
}
