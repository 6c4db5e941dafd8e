//! The strings of the 综合评价 pages (`/evaluation`) and of the big screen's 城市管理指数 panel,
//! Chinese first with a complete English translation: both [`EVAL_ZH`] and [`EVAL_EN`] fill
//! every field, so a missing string does not compile. The names of figures and components come
//! with the domain's definitions (`Figure::zh/en`, `Component::zh/en`).
use cityops_domain::evaluation::{Component, Figure, Kind};

use crate::i18n::Lang;

/// Every text of the evaluation pages.
#[derive(Debug)]
pub struct EvalTr {
    // Navigation and page
    pub nav_group: &'static str,
    pub nav_evaluation: &'static str,
    pub title: &'static str,
    pub intro: &'static str,
    pub forbidden: &'static str,
    pub kinds_label: &'static str,
    pub kind_departments: &'static str,
    pub kind_regions: &'static str,
    pub kind_inspectors: &'static str,
    pub kind_operators: &'static str,
    pub kind_supervisors: &'static str,
    pub kind_dispatchers: &'static str,
    pub unknown_kind: &'static str,
    // Period and level
    pub period: &'static str,
    pub month: &'static str,
    pub prev_month: &'static str,
    pub next_month: &'static str,
    pub this_month: &'static str,
    pub or_range: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub level: &'static str,
    pub show: &'static str,
    /// `{from}`, `{to}`.
    pub period_label: &'static str,
    /// `{from}`, `{to}`.
    pub previous_label: &'static str,
    /// `{t}`.
    pub as_of: &'static str,
    /// `{name}`, `{value}`.
    pub bad_param: &'static str,
    pub too_many: &'static str,
    // Table
    pub ranking: &'static str,
    pub sort_hint: &'static str,
    pub col_rank: &'static str,
    pub col_name: &'static str,
    pub col_score: &'static str,
    pub col_grade: &'static str,
    pub col_change: &'static str,
    pub col_value: &'static str,
    pub col_points: &'static str,
    /// `{w}`.
    pub weight: &'static str,
    pub components_group: &'static str,
    pub counts_group: &'static str,
    /// `{n}`.
    pub up: &'static str,
    /// `{n}`.
    pub down: &'static str,
    pub same: &'static str,
    pub new_entry: &'static str,
    pub nothing_due: &'static str,
    pub no_subjects: &'static str,
    /// `{figure}`, `{name}`: the title of a count's link.
    pub count_link: &'static str,
    // Charts
    pub chart_scores: &'static str,
    pub chart_grades: &'static str,
    pub grade_unit: &'static str,
    pub score_axis: &'static str,
    // Drill-down
    pub drill_title: &'static str,
    /// `{figure}`, `{name}`, `{period}`.
    pub drill_hint: &'static str,
    pub drill_total: &'static str,
    pub back_to_ranking: &'static str,
    // Big screen
    pub index_title: &'static str,
    pub index_trend: &'static str,
    pub index_ranking: &'static str,
    pub index_none: &'static str,
    pub index_so_far: &'static str,
}

pub const EVAL_ZH: EvalTr = EvalTr {
    nav_group: "评价",
    nav_evaluation: "综合评价",
    title: "综合评价",
    intro: "岗位、专业部门和区域的综合指标值、等级与排名（GB/T 30428.4 口径）。每个数字都可点开，查看构成它的案件。",
    forbidden: "综合评价仅向领导、指挥中心（受理员、值班长、派遣员）、专业部门和管理员开放。",
    kinds_label: "评价对象",
    kind_departments: "专业部门",
    kind_regions: "区域",
    kind_inspectors: "监督员",
    kind_operators: "受理员",
    kind_supervisors: "值班长",
    kind_dispatchers: "派遣员",
    unknown_kind: "没有这种评价对象。",
    period: "评价周期",
    month: "月份",
    prev_month: "上月",
    next_month: "下月",
    this_month: "本月",
    or_range: "或自定义时段",
    from: "开始日期",
    to: "结束日期",
    level: "区域层级",
    show: "查询",
    period_label: "{from} 至 {to}",
    previous_label: "（上期 {from} 至 {to}）",
    as_of: "统计时点 {t}",
    bad_param: "参数 {name} 无效：{value}",
    too_many: "同时进行的统计过多，请稍后再试。",
    ranking: "排名",
    sort_hint: "点击列标题可排序",
    col_rank: "排名",
    col_name: "评价对象",
    col_score: "综合指标值",
    col_grade: "等级",
    col_change: "名次变化",
    col_value: "值",
    col_points: "得分",
    weight: "权重 {w}%",
    components_group: "分项指标",
    counts_group: "计数指标",
    up: "上升 {n} 位",
    down: "下降 {n} 位",
    same: "持平",
    new_entry: "新",
    nothing_due: "无应考核事项（计满分）",
    no_subjects: "本期没有评价对象。",
    count_link: "查看{name}的{figure}案件",
    chart_scores: "综合指标值",
    chart_grades: "等级分布",
    grade_unit: "个",
    score_axis: "分",
    drill_title: "指标案件明细",
    drill_hint: "构成“{figure}”的案件：{name}，{period}。",
    drill_total: "合计",
    back_to_ranking: "返回综合评价",
    index_title: "城市管理指数",
    index_trend: "近12个月",
    index_ranking: "本月排名",
    index_none: "暂无指数",
    index_so_far: "截至今日",
};

pub const EVAL_EN: EvalTr = EvalTr {
    nav_group: "Evaluation",
    nav_evaluation: "Performance evaluation",
    title: "Performance evaluation",
    intro: "Composite values, grades and ranks of staff, departments and regions (GB/T 30428.4). Every number opens the cases that make it.",
    forbidden: "Evaluations are for leaders, the command centre (intake operators, shift supervisors, dispatchers), departments and administrators.",
    kinds_label: "Who is evaluated",
    kind_departments: "Departments",
    kind_regions: "Regions",
    kind_inspectors: "Inspectors",
    kind_operators: "Intake operators",
    kind_supervisors: "Shift supervisors",
    kind_dispatchers: "Dispatchers",
    unknown_kind: "There is no such kind of evaluation.",
    period: "Period",
    month: "Month",
    prev_month: "Previous month",
    next_month: "Next month",
    this_month: "This month",
    or_range: "or a custom period",
    from: "From",
    to: "To",
    level: "Region level",
    show: "Show",
    period_label: "{from} to {to}",
    previous_label: "(previous period {from} to {to})",
    as_of: "as of {t}",
    bad_param: "Invalid {name}: {value}",
    too_many: "Too many counts are running at once; please try again shortly.",
    ranking: "Ranking",
    sort_hint: "Click a column heading to sort",
    col_rank: "Rank",
    col_name: "Subject",
    col_score: "Composite value",
    col_grade: "Grade",
    col_change: "Rank change",
    col_value: "Value",
    col_points: "Score",
    weight: "weight {w}%",
    components_group: "Components",
    counts_group: "Figures",
    up: "up {n}",
    down: "down {n}",
    same: "same",
    new_entry: "new",
    nothing_due: "nothing was due (full score)",
    no_subjects: "Nothing to evaluate in this period.",
    count_link: "{figure} cases of {name}",
    chart_scores: "Composite value",
    chart_grades: "Grades",
    grade_unit: "subjects",
    score_axis: "points",
    drill_title: "Cases behind a figure",
    drill_hint: "The cases that make “{figure}”: {name}, {period}.",
    drill_total: "Total",
    back_to_ranking: "Back to the evaluation",
    index_title: "City management index",
    index_trend: "last 12 months",
    index_ranking: "this month's ranking",
    index_none: "No index yet",
    index_so_far: "so far",
};

impl Lang {
    /// The evaluation pages' strings.
    pub fn eval(self) -> &'static EvalTr {
        match self {
            Lang::Zh => &EVAL_ZH,
            Lang::En => &EVAL_EN,
        }
    }

    /// The name of a kind of evaluated subject.
    pub fn eval_kind(self, kind: Kind) -> &'static str {
        let t = self.eval();
        match kind {
            Kind::Departments => t.kind_departments,
            Kind::Regions => t.kind_regions,
            Kind::Inspectors => t.kind_inspectors,
            Kind::Operators => t.kind_operators,
            Kind::Supervisors => t.kind_supervisors,
            Kind::Dispatchers => t.kind_dispatchers,
        }
    }

    /// A figure's name in this language (the domain defines both).
    pub fn figure(self, f: &Figure) -> &'static str {
        match self {
            Lang::Zh => f.zh,
            Lang::En => f.en,
        }
    }

    /// A component's name in this language (the domain defines both).
    pub fn component(self, c: &Component) -> &'static str {
        match self {
            Lang::Zh => c.zh,
            Lang::En => c.en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_figure_and_component_is_named() {
        for kind in Kind::ALL {
            assert_eq!(Lang::Zh.eval_kind(*kind), kind.name_zh());
            assert!(!Lang::En.eval_kind(*kind).is_empty());
            for f in kind.figures() {
                assert!(!Lang::En.figure(f).is_empty() && !Lang::Zh.figure(f).is_empty());
            }
            for c in kind.components() {
                assert!(!Lang::En.component(c).is_empty());
            }
        }
    }
}
