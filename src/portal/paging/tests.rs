use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

/// A page as [`Served`] gives it: total, nextStart, and items (None: no user name).
type Page = (Option<i64>, Option<i64>, Vec<Option<String>>);

/// A listing of members whose page at each start is `serve(start)`, counting the
/// pages asked for.
struct Served<F> {
    path: &'static str,
    serve: F,
    asked: AtomicUsize,
}

impl<F: Fn(usize) -> Page> Listing for Served<F> {
    type Page = Page;
    type Item = Option<String>;

    async fn page(&self, start: usize) -> Result<Page> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        Ok((self.serve)(start))
    }
    fn total(&self, page: &Page) -> Option<i64> {
        page.0
    }
    fn next_start(&self, page: &Page) -> Option<i64> {
        page.1
    }
    fn take(&self, page: &mut Page) -> Vec<Option<String>> {
        std::mem::take(&mut page.2)
    }
    fn item_key(&self) -> ItemKey {
        ItemKey::MEMBERS
    }
    fn key<'i>(&self, item: &'i Option<String>) -> Option<&'i str> {
        item.as_deref()
    }
    fn path(&self) -> &str {
        self.path
    }
}

fn served<F: Fn(usize) -> Page>(path: &'static str, serve: F) -> Served<F> {
    Served {
        path,
        serve,
        asked: AtomicUsize::new(0),
    }
}

/// Members named by number, `m00001` on.
fn named(numbers: std::ops::Range<usize>) -> Vec<Option<String>> {
    numbers.map(|n| Some(format!("m{n:05}"))).collect()
}

/// `total` members at `path`, the total in every page.
fn numbers(path: &'static str, total: usize) -> Served<impl Fn(usize) -> Page> {
    served(path, move |start| {
        let end = (start + PAGE_SIZE).min(total + 1);
        (Some(total as i64), None, named(start..end.max(start)))
    })
}

const MEMBERS: &str = "portals/self/users";

#[tokio::test]
async fn a_windowed_listing_past_the_window_is_an_error_after_one_page() {
    let holders = numbers("content/listings/abc/userEntitlements", 12_000);
    let err = list("https://portal", &holders, None).await.unwrap_err();
    assert_eq!(err.kind(), "listing_cut_off");
    assert!(err.to_string().contains("12000 items"), "{err}");
    assert!(err.to_string().contains("first 10000"), "{err}");
    assert_eq!(holders.asked.load(Ordering::SeqCst), 1);
    // Asking for no more than the window reads it.
    let some = list("https://portal", &holders, Some(250)).await.unwrap();
    assert_eq!(some.len(), 250);
    // The member listing is not windowed.
    let members = numbers(MEMBERS, 12_000);
    assert_eq!(
        list("https://portal", &members, None).await.unwrap().len(),
        12_000
    );
    assert!(windowed("community/users") && windowed("portals/self/users/search"));
    assert!(!windowed("portals/self/users"));
}

#[tokio::test]
async fn members_without_a_user_name_are_refused_saying_where_and_how_many() {
    // 150 members; 17 of the second page's 50 come without a user name.
    let listing = served(MEMBERS, |start| {
        let mut items = named(start..(start + PAGE_SIZE).min(151));
        if start == 101 {
            items.iter_mut().step_by(3).for_each(|item| *item = None);
        }
        (Some(150), None, items)
    });
    let err = list("https://portal", &listing, None).await.unwrap_err();
    assert_eq!(err.kind(), "unreadable_reply");
    let text = err.to_string();
    assert!(
        text.contains(
            "the page of portals/self/users at start 101 has 17 of its 50 members with no username"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn a_member_listed_twice_is_refused_on_one_page_or_across_two() {
    // The second page begins with the first's last member again.
    let across = served(MEMBERS, |start| match start {
        1 => (Some(200), None, named(1..101)),
        _ => (Some(200), None, named(100..200)),
    });
    let err = list("https://portal", &across, None).await.unwrap_err();
    assert_eq!(err.kind(), "unreadable_reply");
    let text = err.to_string();
    assert!(text.contains(r#"listed the username "m00100" twice (again on the page of portals/self/users at start 101)"#), "{text}");
    assert!(text.contains("it repeated members"), "{text}");
    let within = served(MEMBERS, |_| {
        let names = ["ann", "bob", "ann"];
        (
            Some(3),
            None,
            names.iter().map(|n| Some(n.to_string())).collect(),
        )
    });
    let err = list("https://portal", &within, None).await.unwrap_err();
    assert!(err.to_string().contains(r#""ann" twice"#), "{err}");
}

#[tokio::test]
async fn pages_that_repeat_without_a_total_are_refused_not_cut_short() {
    // nextStart advances and the members do not: this once ended quietly after a page.
    let listing = served(MEMBERS, |start| {
        (None, Some(start as i64 + 100), named(1..101))
    });
    let err = list("https://portal", &listing, None).await.unwrap_err();
    assert_eq!(err.kind(), "unreadable_reply");
    assert!(err.to_string().contains("repeated members"), "{err}");
    assert_eq!(listing.asked.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_next_start_that_stalls_or_goes_back_cuts_the_listing_off() {
    for stalled in [101, 50, 1] {
        let listing = served(MEMBERS, move |start| {
            let next = if start == 1 { 101 } else { stalled };
            (None, Some(next), named(start..start + 100))
        });
        let err = list("https://portal", &listing, None).await.unwrap_err();
        assert_eq!(err.kind(), "listing_cut_off", "{stalled}");
        let text = err.to_string();
        assert!(text.contains("stopped advancing"), "{text}");
        assert!(text.contains("the 200 items read"), "{text}");
        assert_eq!(listing.asked.load(Ordering::SeqCst), 2);
    }
}

#[tokio::test]
async fn an_empty_page_while_more_is_said_cuts_the_listing_off() {
    let cut_off = |err: Error, says: &str| {
        assert_eq!(err.kind(), "listing_cut_off", "{err}");
        assert!(err.to_string().contains(says), "{err}");
    };
    // A total of 300, and the third page comes back empty.
    let third = served(MEMBERS, |start| {
        let items = if start == 201 {
            vec![]
        } else {
            named(start..start + 100)
        };
        (Some(300), None, items)
    });
    cut_off(
        list("https://portal", &third, None).await.unwrap_err(),
        "the page of portals/self/users at start 201 came back with no members while the \
         portal counted 300; 200 members were read before it",
    );
    // The first page empty, under a total.
    let first = served(MEMBERS, |_| (Some(5), None, vec![]));
    let err = list("https://portal", &first, None).await.unwrap_err();
    cut_off(
        err,
        "at start 1 came back with no members while the portal counted 5",
    );
    // Without a total: an empty page that names a next one.
    let hollow = served(MEMBERS, |start| {
        let items = if start == 101 {
            vec![]
        } else {
            named(start..start + 100)
        };
        (None, Some(start as i64 + 100), items)
    });
    let err = list("https://portal", &hollow, None).await.unwrap_err();
    cut_off(
        err,
        "at start 101 came back with no members while the portal named a next page at 201",
    );
    // An empty last page ends a listing.
    let ended = served(MEMBERS, |start| match start {
        1 => (None, Some(101), named(1..101)),
        _ => (None, Some(-1), vec![]),
    });
    assert_eq!(
        list("https://portal", &ended, None).await.unwrap().len(),
        100
    );
}

#[tokio::test]
async fn a_split_search_whose_parts_repeat_members_is_refused() {
    // The search counts 10,001 (past the window) and every part of it answers with the
    // same 300 members: 40 parts make more than the count, but not of 10,001 members.
    let search = MemberSearch {
        path: "community/users",
        params: vec![("q", "*".into())],
        list_key: "results",
        max: None,
        ..MemberSearch::default()
    };
    let make = |part: MemberSearch| {
        let whole = !part.params[0].1.contains("username:");
        served("community/users", move |start| {
            let total = if whole { 10_001 } else { 300 };
            (
                Some(total),
                None,
                named(start..(start + PAGE_SIZE).min(301)),
            )
        })
    };
    let err = self::search("https://portal", &search, &make)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "unreadable_reply");
    assert!(err.to_string().contains(r#""m00001" twice"#), "{err}");
}

#[test]
fn a_search_splits_by_user_name_in_order() {
    let parts: Vec<String> = name_parts("ab").into_iter().map(|(p, _)| p).collect();
    assert_eq!(parts[0], "ab");
    assert_eq!(parts[1], "ab-");
    assert_eq!(parts.last().unwrap(), "abz");
    let mut sorted = parts.clone();
    sorted.sort();
    assert_eq!(parts, sorted, "parts are read in user name order");
    let search = MemberSearch {
        path: "community/users",
        params: vec![
            ("q", "(*) AND orgid:X".into()),
            ("sortField", "username".into()),
        ],
        list_key: "results",
        max: Some(5),
        ..MemberSearch::default()
    };
    let narrowed = search.narrowed("-a", true).unwrap();
    assert_eq!(narrowed.params[0].1, "((*) AND orgid:X) AND username:\\-a*");
    assert_eq!(narrowed.params[1].1, "username");
    assert_eq!(narrowed.max, None);
    let listing = MemberSearch {
        path: "portals/self/users",
        params: vec![],
        list_key: "users",
        max: None,
        ..MemberSearch::default()
    };
    assert!(listing.narrowed("a", true).is_none());
}

/// A search of `all` (user names) at `path` as a portal whose total is capped at the
/// window answers it: each part narrowed by `username:` matches the names it names.
fn capped_search(all: &[String], part: &MemberSearch) -> Served<impl Fn(usize) -> Page> {
    let q = &part.params[0].1;
    let prefix = q.rsplit_once("username:").map(|(_, p)| p.replace('\\', ""));
    let matching: Vec<Option<String>> = all
        .iter()
        .filter(|n| match &prefix {
            None => true,
            Some(p) => match p.strip_suffix('*') {
                Some(begins) => n.starts_with(begins),
                None => *n == p,
            },
        })
        .map(|n| Some(n.clone()))
        .collect();
    served("portals/self/users/search", move |start| {
        let total = matching.len().min(SEARCH_WINDOW);
        let room = (SEARCH_WINDOW + 1).saturating_sub(start).min(PAGE_SIZE);
        let page = matching
            .iter()
            .skip(start - 1)
            .take(room)
            .cloned()
            .collect();
        (Some(total as i64), None, page)
    })
}

#[tokio::test]
async fn a_search_counting_exactly_the_window_is_split_never_cut_short() {
    for members in [10_000, 10_500] {
        let all: Vec<String> = (1..=members).map(|n| format!("m{n:05}")).collect();
        let whole = MemberSearch {
            path: "portals/self/users/search",
            params: vec![("q", "*".into())],
            list_key: "results",
            max: None,
            ..MemberSearch::default()
        };
        let found = self::search("https://portal", &whole, &|part| capped_search(&all, &part))
            .await
            .unwrap();
        assert_eq!(
            found.len(),
            members,
            "a total of 10,000 was taken as complete"
        );
        // Fewer than the window wanted: read within it, not split.
        let first = MemberSearch {
            max: Some(SEARCH_WINDOW),
            ..whole.clone()
        };
        let listing = capped_search(&all, &first);
        let some = list("https://portal", &listing, first.max).await.unwrap();
        assert_eq!(some.len(), SEARCH_WINDOW);
    }
    // A windowed listing that cannot be split and counts the whole window is refused.
    let holders = numbers("content/listings/abc/userEntitlements", SEARCH_WINDOW);
    let err = list("https://portal", &holders, None).await.unwrap_err();
    assert_eq!(err.kind(), "listing_cut_off");
}
