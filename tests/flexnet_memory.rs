//! A License Manager debug log of any size is read in constant memory: the peak heap while
//! reading 8 MB and 128 MB of log is the same small amount (the line buffer, one event). The
//! log is generated as it is read, so the test holds none of it. Peak heap use is counted by
//! a global allocator of this test binary (one test only, so nothing else allocates
//! meanwhile).

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{self, BufReader, Read};
use std::sync::atomic::{AtomicUsize, Ordering};

use gislicense::flexnet::log::{Kind, LogReader};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(now, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// `bytes` of log, made as they are read: a TIMESTAMP, then OUT, IN and DENIED lines
/// round the clock (so the date rolls at each midnight).
struct Log {
    left: usize,
    line: usize,
    pending: Vec<u8>,
}

impl Read for Log {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pending.is_empty() {
            if self.left == 0 {
                return Ok(0);
            }
            let n = self.line;
            self.line += 1;
            let (h, m) = ((n / 60) % 24, n % 60);
            let text = match n % 3 {
                _ if n == 0 => " 0:00:00 (lmgrd) TIMESTAMP 1/2/2020\n".to_owned(),
                0 => format!("{h:2}:{m:02}:00 (ARCGIS) OUT: \"Editor\" user{n}@WS-{n}  \n"),
                1 => format!("{h:2}:{m:02}:10 (ARCGIS) IN: \"Editor\" user{n}@WS-{n}  (INACTIVE)\n"),
                _ => format!("{h:2}:{m:02}:20 (ARCGIS) DENIED: \"desktopAdvP\" u@h  (Licensed number of users already reached. (-4,342))\n"),
            };
            self.pending = text.into_bytes();
            self.pending.reverse();
        }
        let mut written = 0;
        while written < out.len() && self.left > 0 {
            let Some(b) = self.pending.pop() else { break };
            out[written] = b;
            written += 1;
            self.left -= 1;
        }
        Ok(written)
    }
}

/// Peak bytes held while reading `bytes` of log, beyond what was held before, and the
/// events and days read.
fn peak_while_reading(bytes: usize) -> (usize, usize, u32) {
    let input = BufReader::with_capacity(
        64 * 1024,
        Log {
            left: bytes,
            line: 0,
            pending: Vec::new(),
        },
    );
    let before = CURRENT.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let mut events = 0;
    let mut last_day = 0;
    for event in LogReader::new(input) {
        let event = event.unwrap();
        events += 1;
        if event.kind != Kind::Raw {
            last_day = event.time.map_or(0, |t| t.day);
        }
    }
    (PEAK.load(Ordering::SeqCst) - before, events, last_day)
}

#[test]
fn a_log_of_any_size_is_read_in_constant_memory() {
    let (small, small_events, _) = peak_while_reading(8 << 20);
    let (large, large_events, day) = peak_while_reading(128 << 20);
    assert!(
        large_events > 15 * small_events,
        "{small_events} then {large_events}"
    );
    assert!(day > 2, "the date rolled at midnight: day {day}");
    // The input buffer (64 KiB, made before counting starts is not assumed), a line, an
    // event: far below a megabyte, and no more for 16 times the log.
    assert!(large < 512 * 1024, "peak {large} bytes for 128 MB");
    assert!(
        large <= small + 4096,
        "peak grew with the log: {small} then {large}"
    );
}
