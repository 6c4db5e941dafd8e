//! The stories of following a case (issue 10, phone pages): the follow tokens of anonymous
//! citizens' reports (kept as a hash, found only by code and hash together) and followers added
//! to an existing case (a duplicate report turned into a follow).
use cityops_domain::case::CaseSource;
use cityops_store::{Store, StoreError};

use crate::case_fixtures::{World, at_min, location, new_report};

/// A SHA-256 in hex as the application computes it (the store never sees the token).
fn hash_of(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

/// A follow token is kept by its hash and answers only to the case's code with that hash: a
/// wrong token, another case's token, an unknown code and the raw token are all `None`; a hash
/// is kept once (`Conflict`), an unknown case is `Invalid`.
pub async fn follow_tokens_answer_code_and_hash_together(store: &dyn Store) {
    let w = World::new(store).await;
    let report = |d: &str| {
        new_report(
            CaseSource::Citizen,
            None,
            location("441302001001001", 114.405, 23.055, ""),
            d,
        )
    };
    let a = w
        .create(store, "citizen1", report("路灯不亮"), at_min(1))
        .await;
    let b = w
        .create(store, "citizen1", report("井盖破损"), at_min(2))
        .await;
    let backend = store.backend();
    store
        .add_follow_token(a.id, &hash_of(1), at_min(1))
        .await
        .expect("add_follow_token a");
    store
        .add_follow_token(b.id, &hash_of(2), at_min(2))
        .await
        .expect("add_follow_token b");

    let found = store
        .case_by_follow_token(&a.code, &hash_of(1))
        .await
        .expect("case_by_follow_token")
        .unwrap_or_else(|| panic!("{backend}: code and hash find the case"));
    assert_eq!(found.id, a.id, "{backend}");
    assert_eq!(found.description, "路灯不亮", "{backend}");
    for (code, hash, why) in [
        (a.code.as_str(), hash_of(3), "a wrong token"),
        (a.code.as_str(), hash_of(2), "another case's token"),
        (
            b.code.as_str(),
            hash_of(1),
            "a token of another case's code",
        ),
        ("2099010100001", hash_of(1), "an unknown code"),
        (a.code.as_str(), String::new(), "an empty token"),
    ] {
        assert!(
            store
                .case_by_follow_token(code, &hash)
                .await
                .expect("case_by_follow_token")
                .is_none(),
            "{backend}: {why} finds nothing"
        );
    }
    assert!(matches!(
        store.add_follow_token(b.id, &hash_of(1), at_min(3)).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .add_follow_token(999_999, &hash_of(9), at_min(3))
            .await,
        Err(StoreError::Invalid(_))
    ));
    // A second token of one case works beside the first.
    store
        .add_follow_token(a.id, &hash_of(4), at_min(4))
        .await
        .expect("a second token");
    assert!(
        store
            .case_by_follow_token(&a.code, &hash_of(4))
            .await
            .expect("lookup")
            .is_some()
    );
}

/// A follower added to a case sees it through the ordinary visibility (a citizen sees only what
/// they reported or follow); following twice adds nothing; an unknown case is `Invalid`.
pub async fn followers_added_to_an_existing_case_see_it(store: &dyn Store) {
    let w = World::new(store).await;
    let backend = store.backend();
    let case = w
        .create(
            store,
            "citizen1",
            new_report(
                CaseSource::Citizen,
                None,
                location("441302001001001", 114.405, 23.055, ""),
                "垃圾满溢",
            ),
            at_min(1),
        )
        .await;
    let other = w.uid("citizen2");
    assert!(
        store
            .get_case(case.id, &w.vis("citizen2"))
            .await
            .expect("get_case")
            .is_none(),
        "{backend}: not yet visible"
    );
    assert!(
        store.follow_case(other, case.id).await.expect("follow"),
        "{backend}: a new follower"
    );
    assert!(
        !store
            .follow_case(other, case.id)
            .await
            .expect("follow again"),
        "{backend}: following twice adds nothing"
    );
    let seen = store
        .get_case(case.id, &w.vis("citizen2"))
        .await
        .expect("get_case")
        .unwrap_or_else(|| panic!("{backend}: the follower sees the case"));
    assert_eq!(seen.id, case.id);
    assert!(matches!(
        store.follow_case(other, 999_999).await,
        Err(StoreError::Invalid(_))
    ));
}
