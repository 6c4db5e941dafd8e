//! The trait impls both stores expand: every repository method that is shared, delegating the
//! tuned writes to the store's own inherent methods.

/// Implements every repository whose methods are all shared — `CacheRepo`, `AuditRepo`,
/// `AccessLogRepo`, `RegionRepo`, `CatalogueRepo`,
/// `OrgRepo`, `SessionRepo`, `ComponentRepo`, `InboxRepo`, `AttachmentRepo`, `FollowRepo` — and `ImportRepo`
/// (delegated to the store's tuned inherent `store_import`) for a store type,
/// reading from the pool field `$read` and writing through `$write` (the same field where the
/// store has one pool). Expanded once in each store crate.
#[macro_export]
macro_rules! shared_repos {
    ($store:ty, read: $read:ident, hot: $hot:ident, write: $write:ident) => {
        #[$crate::__async_trait]
        impl ::cityops_store::CacheRepo for $store {
            async fn cache_versions(
                &self,
            ) -> ::cityops_store::Result<::cityops_store::CacheVersions> {
                $crate::versions::cache_versions(&self.$read).await
            }
        }

        #[$crate::__async_trait]
        impl ::cityops_store::AuditRepo for $store {
            async fn audit_checkpoint(
                &self,
            ) -> ::cityops_store::Result<Option<::cityops_store::AuditCheckpoint>> {
                $crate::versions::audit_checkpoint(&self.$read).await
            }

            async fn save_audit_checkpoint(
                &self,
                cp: &::cityops_store::AuditCheckpoint,
            ) -> ::cityops_store::Result<()> {
                $crate::versions::save_audit_checkpoint(&self.$write, cp).await
            }
        }

        #[$crate::__async_trait]
        impl ::cityops_store::AccessLogRepo for $store {
            async fn log_contact_access(
                &self,
                entries: &[::cityops_store::ContactAccess],
            ) -> ::cityops_store::Result<()> {
                $crate::access_log::log_contact_access(&self.$write, entries).await
            }

            async fn contact_access_log(
                &self,
                query: &::cityops_store::ContactAccessQuery,
                page: ::cityops_store::PageRequest,
            ) -> ::cityops_store::Result<::cityops_store::Page<::cityops_store::ContactAccessEntry>>
            {
                $crate::access_log::contact_access_log(&self.$read, query, page).await
            }
        }

        #[$crate::__async_trait]
        impl ::cityops_store::ImportRepo for $store {
            async fn apply_import(
                &self,
                batch: &::cityops_store::ImportBatch,
            ) -> ::cityops_store::Result<::cityops_store::ImportSummary> {
                self.store_import(batch).await
            }
        }

        #[$crate::__async_trait]
        impl ::cityops_store::RegionRepo for $store {
            async fn get_region(
                &self,
                code: &str,
            ) -> ::cityops_store::Result<Option<::cityops_store::Region>> {
                $crate::read::get_region(&self.$read, code).await
            }

            async fn list_regions(
                &self,
                query: &::cityops_store::RegionQuery,
                page: ::cityops_store::PageRequest,
            ) -> ::cityops_store::Result<::cityops_store::Page<::cityops_store::Region>> {
                $crate::read::list_regions(&self.$read, query, page).await
            }

            async fn regions_with_geometry(
                &self,
                level: ::cityops_store::RegionLevel,
            ) -> ::cityops_store::Result<Vec<::cityops_store::Region>> {
                $crate::read::regions_with_geometry(&self.$read, level).await
            }
        }

        #[$crate::__async_trait]
        impl ::cityops_store::CatalogueRepo for $store {
            async fn list_categories(
                &self,
                kind: Option<::cityops_store::CategoryKind>,
                page: ::cityops_store::PageRequest,
            ) -> ::cityops_store::Result<::cityops_store::Page<::cityops_store::Category>> {
                $crate::read::list_categories(&self.$read, kind, page).await
            }

            async fn get_category(
                &self,
                kind: ::cityops_store::CategoryKind,
                code: &str,
            ) -> ::cityops_store::Result<Option<::cityops_store::Category>> {
                $crate::read::get_category(&self.$read, kind, code).await
            }

            async fn filing_standards(
                &self,
                kind: ::cityops_store::CategoryKind,
                code: &str,
            ) -> ::cityops_store::Result<Vec<::cityops_store::FilingStandard>> {
                $crate::read::filing_standards(&self.$read, kind, code).await
            }
        }

        #[$crate::__async_trait]
        impl ::cityops_store::OrgRepo for $store {
            async fn list_departments(
                &self,
                region_code: Option<&str>,
                page: ::cityops_store::PageRequest,
            ) -> ::cityops_store::Result<::cityops_store::Page<::cityops_store::Department>> {
                $crate::read::list_departments(&self.$read, region_code, page).await
            }

            async fn get_department(
                &self,
                id: i64,
            ) -> ::cityops_store::Result<Option<::cityops_store::Department>> {
                $crate::read::get_department(&self.$read, Some(id), None).await
            }

            async fn get_department_by_code(
                &self,
                code: &str,
            ) -> ::cityops_store::Result<Option<::cityops_store::Department>> {
                $crate::read::get_department(&self.$read, None, Some(code)).await
            }

            async fn create_user(
                &self,
                user: &::cityops_store::NewUser,
            ) -> ::cityops_store::Result<::cityops_store::User> {
                $crate::writes::create_user(&self.$read, &self.$write, user, ::chrono::Utc::now())
                    .await
            }

            async fn get_user(
                &self,
                id: i64,
            ) -> ::cityops_store::Result<Option<::cityops_store::User>> {
                $crate::read::get_user(&self.$read, id).await
            }

            async fn credentials(
                &self,
                username: &str,
            ) -> ::cityops_store::Result<Option<::cityops_store::UserCredentials>> {
                $crate::read::credentials(&self.$read, username).await
            }

            async fn set_password_hash(
                &self,
                user_id: i64,
                password_hash: &str,
            ) -> ::cityops_store::Result<()> {
                $crate::writes::set_password_hash(&self.$write, user_id, password_hash).await
            }

            async fn set_user_active(
                &self,
                user_id: i64,
                active: bool,
            ) -> ::cityops_store::Result<()> {
                $crate::writes::set_user_active(&self.$write, user_id, active).await
            }

            async fn list_users(
                &self,
                role: Option<::cityops_store::Role>,
                department_id: Option<i64>,
                page: ::cityops_store::PageRequest,
            ) -> ::cityops_store::Result<::cityops_store::Page<::cityops_store::User>> {
                $crate::read::list_users(&self.$read, role, department_id, page).await
            }
        }

        #[$crate::__async_trait]
        impl ::cityops_store::SessionRepo for $store {
            async fn create_session(
                &self,
                session: &::cityops_store::NewSession,
            ) -> ::cityops_store::Result<()> {
                $crate::writes::create_session(&self.$write, session).await
            }

            async fn session_user(
                &self,
                token_hash: &str,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> ::cityops_store::Result<Option<::cityops_store::User>> {
                $crate::read::session_user(&self.$hot, token_hash, now).await
            }

            async fn delete_session(&self, token_hash: &str) -> ::cityops_store::Result<()> {
                $crate::writes::delete_session(&self.$write, token_hash).await
            }

            async fn purge_expired_sessions(
                &self,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> ::cityops_store::Result<u64> {
                $crate::writes::purge_expired_sessions(&self.$write, now).await
            }

            async fn list_sessions(
                &self,
                user_id: i64,
                current_token_hash: &str,
                now: ::chrono::DateTime<::chrono::Utc>,
                page: ::cityops_store::PageRequest,
            ) -> ::cityops_store::Result<::cityops_store::Page<::cityops_store::SessionInfo>> {
                $crate::read::list_sessions(&self.$read, user_id, current_token_hash, now, page)
                    .await
            }

            async fn delete_user_session(
                &self,
                user_id: i64,
                id: &str,
            ) -> ::cityops_store::Result<bool> {
                $crate::writes::delete_user_session(&self.$write, user_id, id).await
            }

            async fn delete_other_sessions(
                &self,
                user_id: i64,
                keep_token_hash: &str,
            ) -> ::cityops_store::Result<u64> {
                $crate::writes::delete_other_sessions(&self.$write, user_id, keep_token_hash).await
            }
        }

        #[$crate::__async_trait]
        impl ::cityops_store::ComponentRepo for $store {
            async fn list_components(
                &self,
                query: &::cityops_store::ComponentQuery,
                page: ::cityops_store::PageRequest,
            ) -> ::cityops_store::Result<::cityops_store::Page<::cityops_store::Component>> {
                $crate::read::list_components(&self.$read, query, page).await
            }

            async fn get_component(
                &self,
                id: &str,
            ) -> ::cityops_store::Result<Option<::cityops_store::Component>> {
                $crate::read::get_component(&self.$read, id).await
            }
        }

        #[$crate::__async_trait]
        impl ::cityops_store::InboxRepo for $store {
            async fn inbox(
                &self,
                owner: &::cityops_store::InboxOwner,
                unread_only: bool,
                page: ::cityops_store::PageRequest,
            ) -> ::cityops_store::Result<::cityops_store::Page<::cityops_store::Notification>> {
                $crate::workflow::inbox(&self.$read, owner, unread_only, page).await
            }

            async fn unread_count(
                &self,
                owner: &::cityops_store::InboxOwner,
            ) -> ::cityops_store::Result<u64> {
                $crate::workflow::unread_count(&self.$read, owner).await
            }

            async fn mark_read(
                &self,
                owner: &::cityops_store::InboxOwner,
                which: ::cityops_store::ReadMark<'_>,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> ::cityops_store::Result<u64> {
                $crate::workflow::mark_read(&self.$write, owner, which, now).await
            }
        }

        #[$crate::__async_trait]
        impl ::cityops_store::AttachmentRepo for $store {
            async fn create_attachment(
                &self,
                a: &::cityops_store::NewAttachment,
            ) -> ::cityops_store::Result<::cityops_store::Attachment> {
                $crate::workflow::create_attachment(&self.$write, a).await
            }

            async fn get_attachments(
                &self,
                ids: &[i64],
            ) -> ::cityops_store::Result<Vec<::cityops_store::Attachment>> {
                $crate::workflow::get_attachments(&self.$read, ids).await
            }

            async fn attachments_by_public_id(
                &self,
                public_ids: &[String],
            ) -> ::cityops_store::Result<Vec<::cityops_store::Attachment>> {
                $crate::workflow::attachments_by_public_id(&self.$read, public_ids).await
            }

            async fn case_attachments(
                &self,
                case_id: i64,
            ) -> ::cityops_store::Result<Vec<::cityops_store::Attachment>> {
                $crate::workflow::case_attachments(&self.$read, case_id).await
            }

            async fn attachments_after(
                &self,
                after_id: i64,
                limit: u32,
            ) -> ::cityops_store::Result<Vec<::cityops_store::AttachmentWithCase>> {
                $crate::workflow::attachments_after(&self.$read, after_id, limit).await
            }
        }

        #[$crate::__async_trait]
        impl ::cityops_store::FollowRepo for $store {
            async fn add_follow_token(
                &self,
                case_id: i64,
                token_hash: &str,
                created_at: ::chrono::DateTime<::chrono::Utc>,
            ) -> ::cityops_store::Result<()> {
                $crate::follow::add_follow_token(&self.$write, case_id, token_hash, created_at)
                    .await
            }

            async fn case_by_follow_token(
                &self,
                code: &str,
                token_hash: &str,
            ) -> ::cityops_store::Result<Option<::cityops_store::Case>> {
                $crate::follow::case_by_follow_token(&self.$read, code, token_hash).await
            }

            async fn follow_case(
                &self,
                user_id: i64,
                case_id: i64,
            ) -> ::cityops_store::Result<bool> {
                $crate::follow::follow_case(&self.$write, user_id, case_id).await
            }
        }
    };
}

/// Implements `CaseRepo`, `RoutingRepo` and `CalendarRepo` for a store type: the reads shared
/// (on the pool field `$read`), the writes delegated to the store's own tuned inherent methods
/// `write_queued` (both `create_case` and `save_transition` queue a [`crate::group::CaseWrite`]), `store_marks`, `store_history`, `store_routing_rules`,
/// `store_restore_routing`, `store_calendar_days` and `store_restore_calendar` (same arguments as
/// the trait methods). Expanded once in each store
/// crate.
#[macro_export]
macro_rules! shared_case_repos {
    ($store:ty, read: $read:ident, hot: $hot:ident) => {
        #[$crate::__async_trait]
        impl ::cityops_store::CaseRepo for $store {
            async fn create_case(
                &self,
                case: &::cityops_store::Case,
                local_date: ::chrono::NaiveDate,
                event: &::cityops_store::NewCaseEvent,
                notify: &[::cityops_store::NewNotification],
            ) -> ::cityops_store::Result<::cityops_store::Case> {
                self.write_queued($crate::group::CaseWrite::Report {
                    case: case.clone(),
                    day: local_date,
                    event: event.clone(),
                    notify: notify.to_vec(),
                    steps: Vec::new(),
                })
                .await
            }

            async fn create_case_with_steps(
                &self,
                case: &::cityops_store::Case,
                local_date: ::chrono::NaiveDate,
                event: &::cityops_store::NewCaseEvent,
                notify: &[::cityops_store::NewNotification],
                steps: &[::cityops_store::ReportStep],
            ) -> ::cityops_store::Result<::cityops_store::Case> {
                self.write_queued($crate::group::CaseWrite::Report {
                    case: case.clone(),
                    day: local_date,
                    event: event.clone(),
                    notify: notify.to_vec(),
                    steps: steps.to_vec(),
                })
                .await
            }

            async fn get_case(
                &self,
                id: i64,
                vis: &::cityops_store::CaseVisibility,
            ) -> ::cityops_store::Result<Option<::cityops_store::Case>> {
                $crate::cases::get_case(&self.$read, id, vis).await
            }

            async fn list_cases(
                &self,
                query: &::cityops_store::CaseQuery,
                vis: &::cityops_store::CaseVisibility,
                page: ::cityops_store::PageRequest,
            ) -> ::cityops_store::Result<::cityops_store::Page<::cityops_store::Case>> {
                $crate::cases::list_cases(&self.$read, query, vis, page).await
            }

            async fn count_cases(
                &self,
                query: &::cityops_store::CaseQuery,
                vis: &::cityops_store::CaseVisibility,
            ) -> ::cityops_store::Result<::cityops_store::CaseCounts> {
                $crate::cases::count_cases(&self.$read, query, vis).await
            }

            async fn save_transition(
                &self,
                case: &::cityops_store::Case,
                event: &::cityops_store::NewCaseEvent,
                notify: &[::cityops_store::NewNotification],
                follow: Option<(i64, i64)>,
            ) -> ::cityops_store::Result<::cityops_store::Case> {
                self.write_queued($crate::group::CaseWrite::Step {
                    case: case.clone(),
                    event: event.clone(),
                    notify: notify.to_vec(),
                    follow,
                })
                .await
            }

            async fn case_events(
                &self,
                case_id: i64,
                vis: &::cityops_store::CaseVisibility,
            ) -> ::cityops_store::Result<Option<Vec<::cityops_store::CaseEvent>>> {
                $crate::cases::case_events(&self.$read, case_id, vis).await
            }

            async fn audit_events(
                &self,
                after_seq: i64,
                limit: u32,
            ) -> ::cityops_store::Result<Vec<::cityops_store::CaseEvent>> {
                $crate::cases::audit_events(&self.$read, after_seq, limit).await
            }

            async fn audit_head(&self) -> ::cityops_store::Result<i64> {
                $crate::cases::audit_head(&self.$hot).await
            }

            async fn duplicate_points(
                &self,
                since: ::chrono::DateTime<::chrono::Utc>,
                after_id: i64,
                limit: u32,
            ) -> ::cityops_store::Result<Vec<::cityops_store::DuplicatePoint>> {
                $crate::cases::duplicate_points(&self.$read, since, after_id, limit).await
            }

            async fn duplicate_changes(
                &self,
                after_seq: i64,
                limit: u32,
            ) -> ::cityops_store::Result<Vec<::cityops_store::DuplicateChange>> {
                $crate::cases::duplicate_changes(&self.$hot, after_seq, limit).await
            }

            async fn duplicate_cases(
                &self,
                ids: &[i64],
            ) -> ::cityops_store::Result<Vec<::cityops_store::Case>> {
                let all = ::cityops_store::CaseVisibility::everything();
                $crate::evaluation::cases_by_ids(&self.$hot, ids, &all).await
            }

            async fn mark_lights(
                &self,
                now: ::chrono::DateTime<::chrono::Utc>,
                limit: u32,
                mark: ::cityops_store::MarkFn<'_>,
            ) -> ::cityops_store::Result<u64> {
                self.store_marks(now, limit, mark).await
            }

            async fn import_history(
                &self,
                history: &::cityops_store::CaseHistory,
            ) -> ::cityops_store::Result<u64> {
                self.store_history(history).await
            }
        }

        #[$crate::__async_trait]
        impl ::cityops_store::RoutingRepo for $store {
            async fn routing_rules(
                &self,
            ) -> ::cityops_store::Result<Vec<::cityops_store::RoutingRule>> {
                $crate::workflow::routing_rules(&self.$read).await
            }

            async fn replace_routing_rules(
                &self,
                rules: &[::cityops_store::RoutingRule],
                change: &::cityops_store::ConfigChange,
            ) -> ::cityops_store::Result<u64> {
                self.store_routing_rules(rules, change).await
            }

            async fn routing_versions(
                &self,
                page: ::cityops_store::PageRequest,
            ) -> ::cityops_store::Result<::cityops_store::Page<::cityops_store::ConfigVersion>>
            {
                $crate::changes::versions(
                    &self.$read,
                    ::cityops_store::ConfigSubject::Routing,
                    page,
                )
                .await
            }

            async fn routing_version(
                &self,
                id: i64,
            ) -> ::cityops_store::Result<
                Option<(
                    ::cityops_store::ConfigVersion,
                    Vec<::cityops_store::RoutingRule>,
                )>,
            > {
                $crate::changes::routing_version(&self.$read, id).await
            }

            async fn restore_routing_version(
                &self,
                id: i64,
                change: &::cityops_store::ConfigChange,
            ) -> ::cityops_store::Result<::cityops_store::ConfigVersion> {
                self.store_restore_routing(id, change).await
            }
        }

        #[$crate::__async_trait]
        impl ::cityops_store::CalendarRepo for $store {
            async fn calendar_days(
                &self,
            ) -> ::cityops_store::Result<Vec<::cityops_store::CalendarDay>> {
                $crate::workflow::calendar_days(&self.$read).await
            }

            async fn put_calendar_days(
                &self,
                days: &[::cityops_store::CalendarDay],
                change: &::cityops_store::ConfigChange,
            ) -> ::cityops_store::Result<u64> {
                self.store_calendar_days(days, change).await
            }

            async fn calendar_versions(
                &self,
                page: ::cityops_store::PageRequest,
            ) -> ::cityops_store::Result<::cityops_store::Page<::cityops_store::ConfigVersion>>
            {
                $crate::changes::versions(
                    &self.$read,
                    ::cityops_store::ConfigSubject::Calendar,
                    page,
                )
                .await
            }

            async fn calendar_version(
                &self,
                id: i64,
            ) -> ::cityops_store::Result<
                Option<(
                    ::cityops_store::ConfigVersion,
                    Vec<::cityops_store::CalendarDay>,
                )>,
            > {
                $crate::changes::calendar_version(&self.$read, id).await
            }

            async fn restore_calendar_version(
                &self,
                id: i64,
                change: &::cityops_store::ConfigChange,
            ) -> ::cityops_store::Result<::cityops_store::ConfigVersion> {
                self.store_restore_calendar(id, change).await
            }
        }
    };
}

/// Implements `Admin` for a store type named `$backend`: migrations by the crate's own `MIGRATOR`
/// on `$write` followed by the store's inherent `after_migrations`, ping, stats and meta reads on `$read`, meta writes on `$write`.
#[macro_export]
macro_rules! shared_admin {
    ($store:ty, backend: $backend:literal, read: $read:ident, write: $write:ident) => {
        #[$crate::__async_trait]
        impl ::cityops_store::Admin for $store {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn migrate(&self) -> ::cityops_store::Result<()> {
                MIGRATOR.run(&self.$write).await.map_err(|e| {
                    ::cityops_store::StoreError::Database(format!("migration failed: {e}"))
                })?;
                // What a migration cannot do in SQL (the store's inherent method).
                self.after_migrations().await
            }

            async fn ping(&self) -> ::cityops_store::Result<()> {
                $crate::read::ping(&self.$read).await
            }

            async fn stats(&self) -> ::cityops_store::Result<::cityops_store::StoreStats> {
                $crate::read::stats(&self.$read).await
            }

            async fn get_meta(&self, key: &str) -> ::cityops_store::Result<Option<String>> {
                $crate::read::get_meta(&self.$read, key).await
            }

            async fn set_meta(&self, key: &str, value: &str) -> ::cityops_store::Result<()> {
                $crate::writes::set_meta(&self.$write, key, value).await
            }
        }
    };
}
