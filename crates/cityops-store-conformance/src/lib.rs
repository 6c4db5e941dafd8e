//! One conformance suite for every CityOps store: generic async "stories" that take a freshly
//! connected, migrated, empty store (`&dyn Store`) and panic when it breaks the contract of
//! `cityops-store`. `tests/sqlite.rs` and `tests/postgres.rs` run each story on a fresh database.
//!
//! Adding a story: write `pub async fn my_story(store: &dyn Store)` in [`stories`] (or, for the
//! case workflow, in [`case_stories`], which [`stories`] re-exports) and add its name to
//! [`for_each_story!`]; both backends then get a `#[tokio::test]` of that name.

pub mod cache_stories;
pub mod case_fixtures;
pub mod case_stories;
pub mod dashboard_stories;
pub mod drift_stories;
pub mod evaluation_stories;
pub mod export_stories;
pub mod fixtures;
pub mod follow_stories;
pub mod monitoring_stories;
pub mod object_stories;
pub mod open311_stories;
pub mod poi_stories;
pub mod report_stories;
pub mod review_stories;
pub mod search_stories;
pub mod security_stories;
pub mod stories;

/// Calls `$callback! { story, story, ... }` with the name of every story in [`stories`]; each
/// backend's test file turns the names into test functions.
#[macro_export]
macro_rules! for_each_story {
    ($callback:ident) => {
        $callback! {
            admin_migrate_ping_meta,
            import_writes_everything,
            import_upserts_by_natural_key,
            import_is_all_or_nothing,
            import_rejects_duplicate_keys,
            regions_list_filter_page,
            regions_with_geometry_by_level,
            catalogue_lists_and_standards,
            departments_by_region,
            users_create_and_list,
            sessions_expire_and_purge,
            sessions_end_when_user_deactivated,
            sessions_listed_and_revoked_per_user,
            components_filter_and_page,
            concurrent_writes_succeed,
            large_import,
            case_codes_follow_the_day,
            case_codes_unique_under_concurrency,
            case_visibility_scopes_every_read,
            case_query_filters,
            case_query_sorts_and_pages,
            case_stale_version_conflicts,
            case_chain_verifies,
            case_report_with_steps,
            case_duplicate_points,
            case_mark_lights_once,
            case_inbox_matching_and_mark_read,
            case_attachments_linked,
            case_routing_rules_replace,
            case_calendar_upsert,
            case_import_history_then_create,
            case_text_search_folds_latin_and_is_literal,
            case_sorts_break_ties_by_id,
            case_category_filter_answered_alike,
            case_codes_stop_at_the_daily_limit,
            case_codes_daily_limit_inside_a_group,
            case_clock_projected_for_open_cases_only,
            calendar_repeated_date_refused,
            cache_versions_follow_their_writes,
            audit_checkpoint_moves_forward,
            attachment_claimed_by_one_report,
            attachment_claimed_by_one_transition,
            case_text_search_finds_short_chinese_queries,
            case_text_search_many_matches_page_alike,
            contact_access_log_appends_and_reads_newest_first,
            inbox_shared_reads_are_per_user,
            attachment_public_ids_are_random,
            routing_versions_kept_and_restored,
            calendar_versions_kept_and_restored,
            follow_tokens_answer_code_and_hash_together,
            followers_added_to_an_existing_case_see_it,
            case_queue_flags,
            dashboard_counts_within_visibility,
            evaluation_cases_carry_the_facts_within_visibility,
            evaluation_fingerprints_change_with_every_write,
            review_candidates_are_the_period_closed_cases,
            review_samples_are_kept_once,
            reviews_are_one_per_sampled_case_and_scored,
            reviewers_see_closed_cases_only,
            export_pages_equal_the_list,
            export_contact_log_in_one_statement,
            reports_are_kept_once_and_read_in_scope,
            devices_are_upserted_whole_and_listed_in_scope,
            readings_are_stored_once_with_their_rollups,
            rules_are_kept_and_replaced,
            alarms_are_active_once_per_device_and_rule,
            object_codes_are_issued_once_per_division_and_kind,
            objects_import_all_or_nothing_and_update_at_their_version,
            objects_are_listed_and_read_within_the_scope,
            object_checks_are_written_whole_with_their_photos_and_records,
            object_ladder_steps_once_and_one_caller_opens_the_enforcement_case,
            pois_are_replaced_or_inserted_whole,
            nearby_pois_are_the_nearest_within_the_radius,
            nearby_pois_equal_a_full_scan,
            open311_clients_are_found_by_key_hash_until_revoked,
            open311_requests_read_published_cases_in_one_page,
            open311_updates_are_the_window_events_in_chain_order,
        }
    };
}
