//! The chrome every page shares: top bar, navigation (left on desktop, a tab bar on phones).
use crate::UiState;
use crate::auth::Ctx;
use crate::i18n::{Lang, Tr};
use crate::tree;
use crate::util::encode;

/// Sections of the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Overview,
    /// 案件: the case list, its queues and the case page.
    Cases,
    Map,
    Regions,
    Components,
    Catalogue,
    Org,
    /// The change history of the matrix and the calendar (administrators).
    Versions,
    /// 第三方评价 (reviewers, leaders, administrators).
    Reviews,
    /// 指挥大屏 (opens the full-screen page).
    Screen,
    /// 综合评价: the rankings and their drill-downs.
    Evaluation,
    /// 报表: the daily, weekly and monthly reports.
    Reports,
    /// 运行监测: the device map and the device pages.
    Monitoring,
    /// 报警: the alarm wall.
    Alarms,
    /// 报警规则: the rule editor.
    Rules,
    /// Open311 接入应用: the client applications and their keys (administrators).
    Open311,
    /// 一码管全域: the management objects, an object's page, its label sheets.
    Objects,
    /// 双保险比对: the discrepancies per street.
    ObjectDiscrepancies,
    /// 分阶段办结: the 小事不出责任区 statistics.
    ObjectStats,
}

/// One link of the navigation.
#[derive(Debug, Clone)]
pub(crate) struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    /// SVG path data (24×24, stroked).
    pub icon: &'static str,
    pub active: bool,
    /// The number of cases waiting in a queue link (案件 group).
    pub count: Option<String>,
    /// Shown in the phone tab bar too (queue links are not).
    pub tab: bool,
}

/// A group of the navigation, with its heading.
#[derive(Debug, Clone)]
pub(crate) struct NavGroup {
    pub label: Option<&'static str>,
    pub items: Vec<NavItem>,
}

const ICON_OVERVIEW: &str = "M4 4h7v7H4zM13 4h7v4h-7zM13 11h7v9h-7zM4 14h7v6H4z";
const ICON_CASES: &str = "M6 3h9l4 4v14H6zM14 3v5h5M9 12h7M9 16h7";
const ICON_QUEUE: &str = "M5 12h14";
const ICON_SCREEN: &str = "M3 4h18v12H3zM8 20h8M12 16v4M7 12l3-3 3 2 4-4";
const ICON_MAP: &str = "M3 6.5 9 4l6 2.5L21 4v13.5L15 20l-6-2.5L3 20zM9 4v13.5M15 6.5V20";
const ICON_REGIONS: &str =
    "M10 3h4v4h-4zM3 17h4v4H3zM10 17h4v4h-4zM17 17h4v4h-4zM12 7v10M5 17v-4h14v4";
const ICON_COMPONENTS: &str = "M12 21s-6.5-6.2-6.5-11.5a6.5 6.5 0 0 1 13 0C18.5 14.8 12 21 12 21zM12 12a2.5 2.5 0 1 0 0-5 2.5 2.5 0 0 0 0 5z";
const ICON_CATALOGUE: &str =
    "M9 6h11M9 12h11M9 18h11M4 5.5h1.5v1.5H4zM4 11.5h1.5v1.5H4zM4 17.5h1.5v1.5H4z";
const ICON_VERSIONS: &str = "M12 7.5V12l3 2M3.5 12a8.5 8.5 0 1 0 2.6-6.1M3.5 3.5v4h4";
const ICON_REVIEWS: &str =
    "M12 3.5l2.6 5.3 5.9.9-4.3 4.1 1 5.8-5.2-2.7-5.2 2.7 1-5.8-4.3-4.1 5.9-.9z";
const ICON_EVALUATION: &str = "M3 20h18M6 20v-7M11 20V8M16 20v-5M20 4l-5 5-3-2-4 4";
const ICON_REPORTS: &str = "M6 3h9l4 4v14H6zM14 3v5h5M9 17v-3M12 17v-5M15 17v-2";
const ICON_MONITORING: &str = "M3 12h4l2.5-6 4 12 2.5-6H21";
const ICON_ALARMS: &str = "M12 3a6 6 0 0 0-6 6v4l-2 3h16l-2-3V9a6 6 0 0 0-6-6zM10 19a2 2 0 0 0 4 0";
const ICON_RULES: &str = "M4 7h9M17 7h3M15 5v4M4 17h3M11 17h9M9 15v4M4 12h14";
const ICON_KEY: &str = "M14.5 9.5a4.5 4.5 0 1 1-1.3-3.2 4.5 4.5 0 0 1 1.3 3.2zM13.2 12.7 21 20.5M17 16.5l2-2M19 18.5l1.5-1.5";
const ICON_QR: &str = "M4 4h6v6H4zM14 4h6v6h-6zM4 14h6v6H4zM14 14h2v2h-2zM18 14h2M14 18h2v2M18 18h2v2h-2zM6.5 6.5h1M16.5 6.5h1M6.5 16.5h1";
const ICON_COMPARE: &str = "M8 4v16M16 4v16M4 8h4M16 8h4M4 15l2 2 3-4M15 15l2 2 3-4";
const ICON_STAGES: &str = "M4 20h16M6 20v-4M10 20v-8M14 20v-6M18 20v-12";
const ICON_ORG: &str =
    "M4 21V6l8-3 8 3v15M2.5 21h19M8.5 9h2M13.5 9h2M8.5 13h2M13.5 13h2M10 21v-4h4v4";

/// Everything the shared chrome of a page shows.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub t: &'static Tr,
    pub lang: Lang,
    pub title: String,
    pub city: String,
    pub user_name: String,
    pub user_initial: String,
    pub user_roles: String,
    pub nav: Vec<NavGroup>,
    /// The same page in the other language.
    pub toggle_url: String,
    /// Load Leaflet on this page.
    pub leaflet: bool,
    /// The database holds the demo city (published passwords): say so in the top bar.
    pub demo: bool,
    /// The session's CSRF token: the logout form's `csrf_token`, the `csrf-token` meta tag and
    /// htmx's `X-CSRF-Token` header.
    pub csrf_token: String,
}

impl Layout {
    pub async fn new(
        st: &UiState,
        ctx: &Ctx,
        section: Section,
        title: impl Into<String>,
    ) -> Layout {
        let t = ctx.lang.tr();
        // The city name comes from the region tree; a failing store must not hide the page.
        let city = match tree::tree(st).await {
            Ok(tree) => tree.city().map(|c| c.name.clone()).unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %e, "region tree unavailable for the top bar");
                String::new()
            }
        };
        let roles: Vec<&str> = ctx.user.roles.iter().map(|r| ctx.lang.role(*r)).collect();
        let item = |href, label, icon, s: Section| NavItem {
            href,
            label,
            icon,
            active: s == section,
            count: None,
            tab: true,
        };
        // 案件: the case list and the user's queues with their counts (cached a few seconds).
        let c = ctx.lang.cases();
        let mut case_items = vec![item("/cases", c.nav_cases, ICON_CASES, Section::Cases)];
        match crate::pages::cases::queue_counts(st, &ctx.user).await {
            Ok(counts) => {
                for (q, n) in counts {
                    let here = section == Section::Cases
                        && (ctx.path_and_query == q.href()
                            || ctx.path_and_query.starts_with(&format!("{}&", q.href())));
                    if here {
                        case_items[0].active = false;
                    }
                    case_items.push(NavItem {
                        href: q.href(),
                        label: c.queue(q),
                        icon: ICON_QUEUE,
                        active: here,
                        count: Some(crate::util::fmt_int(n)),
                        tab: false,
                    });
                }
            }
            Err(e) => tracing::warn!(error = %e, "queue counts unavailable for the navigation"),
        }
        let mut nav = vec![
            NavGroup {
                label: None,
                items: {
                    let mut items = vec![
                        item("/", t.nav_overview, ICON_OVERVIEW, Section::Overview),
                        item("/map", t.nav_map, ICON_MAP, Section::Map),
                    ];
                    // 指挥大屏: for the roles that see the command centre's figures.
                    if cityops_app::dashboard::may_view_dashboard(&ctx.user) {
                        items.push(item(
                            "/screen",
                            ctx.lang.screen().nav_screen,
                            ICON_SCREEN,
                            Section::Screen,
                        ));
                    }
                    items
                },
            },
            NavGroup {
                label: Some(c.nav_group_cases),
                items: case_items,
            },
        ];
        // 监测: the device map, the alarm wall (with the alarms waiting to be acknowledged) and
        // the rules, for the roles that watch devices when monitoring runs.
        if crate::pages::monitoring::may_watch(st, &ctx.user) {
            let m = ctx.lang.monitoring();
            let waiting = crate::pages::monitoring::raised_count(st, &ctx.user).await;
            nav.push(NavGroup {
                label: Some(m.nav_group),
                items: vec![
                    item(
                        "/monitoring",
                        m.nav_map,
                        ICON_MONITORING,
                        Section::Monitoring,
                    ),
                    NavItem {
                        count: waiting.filter(|n| *n > 0).map(crate::util::fmt_int),
                        tab: false,
                        ..item(
                            "/monitoring/alarms",
                            m.nav_alarms,
                            ICON_ALARMS,
                            Section::Alarms,
                        )
                    },
                    NavItem {
                        tab: false,
                        ..item("/monitoring/rules", m.nav_rules, ICON_RULES, Section::Rules)
                    },
                ],
            });
        }
        // 一码管全域: the management objects for the roles that see them; the discrepancies and the
        // statistics for supervisors, leaders and administrators.
        if crate::pages::objects::may_see_objects(&ctx.user) {
            let o = ctx.lang.objects();
            let mut items = vec![item("/objects", o.nav_objects, ICON_QR, Section::Objects)];
            if crate::pages::objects::supervises(&ctx.user) {
                items.push(NavItem {
                    tab: false,
                    ..item(
                        "/objects/discrepancies",
                        o.nav_discrepancies,
                        ICON_COMPARE,
                        Section::ObjectDiscrepancies,
                    )
                });
                items.push(NavItem {
                    tab: false,
                    ..item(
                        "/objects/stats",
                        o.nav_stats,
                        ICON_STAGES,
                        Section::ObjectStats,
                    )
                });
            }
            nav.push(NavGroup {
                label: Some(o.nav_group),
                items,
            });
        }
        // 评价: 综合评价 for the roles that see evaluations; 报表 for its readers; 第三方评价 for
        // reviewers and for the leaders and administrators who draw its samples and read its
        // scores.
        let mut assessment = Vec::new();
        if cityops_app::evaluation::may_evaluate(&ctx.user) {
            assessment.push(item(
                "/evaluation",
                ctx.lang.eval().nav_evaluation,
                ICON_EVALUATION,
                Section::Evaluation,
            ));
        }
        if cityops_app::report::may_read_reports(&ctx.user) {
            assessment.push(item(
                "/reports",
                ctx.lang.reports().nav_reports,
                ICON_REPORTS,
                Section::Reports,
            ));
        }
        if cityops_app::review::may_review(&ctx.user)
            || cityops_app::review::may_manage_reviews(&ctx.user)
        {
            assessment.push(item(
                "/reviews",
                ctx.lang.reviews().nav_reviews,
                ICON_REVIEWS,
                Section::Reviews,
            ));
        }
        if !assessment.is_empty() {
            nav.push(NavGroup {
                label: Some(ctx.lang.eval().nav_group),
                items: assessment,
            });
        }
        nav.extend([
            NavGroup {
                label: Some(t.nav_group_base),
                items: vec![
                    item("/regions", t.nav_regions, ICON_REGIONS, Section::Regions),
                    item(
                        "/components",
                        t.nav_components,
                        ICON_COMPONENTS,
                        Section::Components,
                    ),
                    item(
                        "/catalogue",
                        t.nav_catalogue,
                        ICON_CATALOGUE,
                        Section::Catalogue,
                    ),
                ],
            },
            NavGroup {
                label: Some(t.nav_group_admin),
                items: {
                    let mut items = vec![item("/org", t.nav_org, ICON_ORG, Section::Org)];
                    if ctx.is_admin() {
                        items.push(item(
                            "/versions",
                            t.nav_versions,
                            ICON_VERSIONS,
                            Section::Versions,
                        ));
                        items.push(NavItem {
                            tab: false,
                            ..item(
                                "/open311/clients",
                                ctx.lang.open311().nav,
                                ICON_KEY,
                                Section::Open311,
                            )
                        });
                    }
                    items
                },
            },
        ]);
        let name = if ctx.user.display_name.trim().is_empty() {
            &ctx.user.username
        } else {
            &ctx.user.display_name
        };
        Layout {
            t,
            lang: ctx.lang,
            title: title.into(),
            city,
            user_initial: name
                .chars()
                .next()
                .map(|c| c.to_string())
                .unwrap_or_default(),
            user_name: name.clone(),
            user_roles: if ctx.user.roles.is_empty() {
                String::new()
            } else {
                roles.join("、")
            },
            nav,
            toggle_url: toggle_url(&ctx.path_and_query, ctx.lang.other()),
            leaflet: false,
            demo: st.app.demo_mode,
            csrf_token: ctx.csrf_token.clone(),
        }
    }

    pub fn with_leaflet(mut self) -> Self {
        self.leaflet = true;
        self
    }

    /// `hx-headers` of the page's body: htmx sends the CSRF token with every request it makes.
    pub fn hx_headers(&self) -> String {
        format!(r#"{{"X-CSRF-Token": "{}"}}"#, self.csrf_token)
    }

    /// The versioned URL of an embedded asset.
    pub fn asset(&self, path: &str) -> String {
        crate::assets::url(path)
    }
}

/// The URL of this page with `lang` set to `lang`.
pub(crate) fn toggle_url(path_and_query: &str, lang: Lang) -> String {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut parts: Vec<String> = query
        .split('&')
        .filter(|kv| !kv.is_empty() && kv.split('=').next() != Some("lang"))
        .map(str::to_string)
        .collect();
    parts.push(format!("lang={}", encode(lang.code())));
    format!("{path}?{}", parts.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toggle_keeps_the_query() {
        assert_eq!(toggle_url("/", Lang::En), "/?lang=en");
        assert_eq!(
            toggle_url("/components?page=2&lang=zh", Lang::En),
            "/components?page=2&lang=en"
        );
        assert_eq!(
            toggle_url("/regions?q=%E6%A1%A5", Lang::Zh),
            "/regions?q=%E6%A1%A5&lang=zh"
        );
    }
}
