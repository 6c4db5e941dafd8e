//! The strings of the third-party review page (第三方评价), Chinese first with a complete English
//! translation: both [`REVIEWS_ZH`] and [`REVIEWS_EN`] fill every field, so a missing string
//! does not compile.
use cityops_app::ServiceError;

use crate::i18n::Lang;

/// Every text of the review page.
#[derive(Debug)]
pub struct ReviewTr {
    // Navigation and page
    pub nav_group: &'static str,
    pub nav_reviews: &'static str,
    pub title: &'static str,
    pub intro_reviewer: &'static str,
    pub intro_manager: &'static str,
    pub forbidden: &'static str,
    // The reviewer's tasks
    pub tasks_title: &'static str,
    pub tasks_empty: &'static str,
    pub col_case: &'static str,
    pub col_department: &'static str,
    pub col_period: &'static str,
    pub col_state: &'static str,
    pub state_pending: &'static str,
    pub state_done: &'static str,
    pub review_form: &'static str,
    pub score_label: &'static str,
    /// The five scores' words, 1 to 5.
    pub score_words: [&'static str; 5],
    pub comment_label: &'static str,
    pub comment_hint: &'static str,
    pub photo_label: &'static str,
    pub photo_hint: &'static str,
    pub photo_needs_js: &'static str,
    pub submit: &'static str,
    pub submitted: &'static str,
    pub reviewed_at: &'static str,
    pub photo_alt: &'static str,
    pub uploading: &'static str,
    pub uploaded: &'static str,
    pub upload_failed: &'static str,
    // The leaders' scores
    pub scores_title: &'static str,
    pub scores_intro: &'static str,
    pub from_label: &'static str,
    pub to_label: &'static str,
    pub show: &'static str,
    pub draw_button: &'static str,
    pub draw_hint: &'static str,
    pub drawn_notice: &'static str,
    pub drawn_nothing_new: &'static str,
    pub col_sampled: &'static str,
    pub col_reviewed: &'static str,
    pub col_mean: &'static str,
    pub col_score_sum: &'static str,
    pub scores_empty: &'static str,
    // Refusals
    pub err_not_in_sample: &'static str,
    pub err_reviewed: &'static str,
    pub err_score: &'static str,
    pub err_comment: &'static str,
    pub err_too_long: &'static str,
    pub err_photo: &'static str,
    pub err_period: &'static str,
    pub err_period_not_over: &'static str,
}

pub const REVIEWS_ZH: ReviewTr = ReviewTr {
    nav_group: "评价",
    nav_reviews: "第三方评价",
    title: "第三方评价",
    intro_reviewer: "以下是从本辖区已结案案件中随机抽取的评价样本。请查看案件，按 1–5 分评价处置效果，并填写评价意见，可附现场照片。每件案件只评价一次。",
    intro_manager: "每月按部门随机抽取已结案案件（可复现：同一周期、部门与城市盐值总是抽到同样的案件），由第三方评价员评分；得分计入部门综合评价。",
    forbidden: "第三方评价仅向第三方评价员、领导和管理员开放。",
    tasks_title: "评价任务",
    tasks_empty: "暂无评价任务：本辖区尚未抽取样本。",
    col_case: "案件编号",
    col_department: "处置部门",
    col_period: "评价周期",
    col_state: "评价",
    state_pending: "待评价",
    state_done: "已评价",
    review_form: "评价此案件",
    score_label: "评分",
    score_words: ["1 很不满意", "2 不满意", "3 一般", "4 满意", "5 很满意"],
    comment_label: "评价意见",
    comment_hint: "请说明现场情况与处置效果（最多 1000 字）。",
    photo_label: "现场照片（可选）",
    photo_hint: "一张照片，上传后去除位置信息。",
    photo_needs_js: "上传照片需要启用 JavaScript；不附照片也可提交。",
    submit: "提交评价",
    submitted: "评价已提交：案件",
    reviewed_at: "评价时间",
    photo_alt: "评价照片",
    uploading: "正在上传",
    uploaded: "已上传",
    upload_failed: "上传失败：",
    scores_title: "部门评价得分",
    scores_intro: "所选周期内各部门的抽样数、已评价数与平均分（样本周期须落在所选周期内）。",
    from_label: "开始日期",
    to_label: "结束日期",
    show: "查询",
    draw_button: "抽取本周期样本",
    draw_hint: "周期结束后方可抽样；重复抽取不会改变已抽取的样本。",
    drawn_notice: "已抽取样本，新增案件",
    drawn_nothing_new: "本周期样本此前已抽取，未作更改。",
    col_sampled: "抽样数",
    col_reviewed: "已评价",
    col_mean: "平均分",
    col_score_sum: "总分",
    scores_empty: "所选周期内尚无评价样本。",
    err_not_in_sample: "该案件不在您辖区的评价样本中。",
    err_reviewed: "该案件已评价，每件案件只评价一次。",
    err_score: "请选择 1–5 分。",
    err_comment: "请填写评价意见。",
    err_too_long: "评价意见超出长度限制（最多 1000 字）。",
    err_photo: "照片无效：须为您本人上传、且未用于其他案件的照片。",
    err_period: "评价周期无效：请填写开始与结束日期，且不超过 366 天。",
    err_period_not_over: "该周期尚未结束，结束后方可抽样。",
};

pub const REVIEWS_EN: ReviewTr = ReviewTr {
    nav_group: "Evaluation",
    nav_reviews: "Third-party review",
    title: "Third-party review",
    intro_reviewer: "These closed cases of your region were drawn at random for review. Open a case, score how well it was handled from 1 to 5 with a comment, and add a photo from the site if you have one. Each case is reviewed once.",
    intro_manager: "Each month a random sample of every department's closed cases is drawn (reproducibly: the same period, department and city salt always draw the same cases) and scored by third-party reviewers; the scores count towards the department's evaluation.",
    forbidden: "Third-party review is open to third-party reviewers, leaders and administrators only.",
    tasks_title: "Review tasks",
    tasks_empty: "No review tasks: no sample of your region has been drawn yet.",
    col_case: "Case code",
    col_department: "Department",
    col_period: "Period",
    col_state: "Review",
    state_pending: "To review",
    state_done: "Reviewed",
    review_form: "Review this case",
    score_label: "Score",
    score_words: [
        "1 Very unsatisfied",
        "2 Unsatisfied",
        "3 Neutral",
        "4 Satisfied",
        "5 Very satisfied",
    ],
    comment_label: "Comment",
    comment_hint: "What you found on site and how well it was handled (at most 1,000 characters).",
    photo_label: "Photo from the site (optional)",
    photo_hint: "One photo; its location data is removed on upload.",
    photo_needs_js: "Uploading a photo needs JavaScript; the review can be sent without one.",
    submit: "Send the review",
    submitted: "Review sent: case",
    reviewed_at: "Reviewed at",
    photo_alt: "Review photo",
    uploading: "Uploading",
    uploaded: "Uploaded",
    upload_failed: "Upload failed: ",
    scores_title: "Review scores by department",
    scores_intro: "Cases sampled, reviewed and the mean score of each department in the chosen period (samples whose period lies within it).",
    from_label: "From",
    to_label: "To",
    show: "Show",
    draw_button: "Draw this period's sample",
    draw_hint: "A period is drawn once it is over; drawing it again changes nothing.",
    drawn_notice: "Sample drawn, cases added",
    drawn_nothing_new: "This period had been drawn before; nothing changed.",
    col_sampled: "Sampled",
    col_reviewed: "Reviewed",
    col_mean: "Mean score",
    col_score_sum: "Score sum",
    scores_empty: "No review sample in the chosen period yet.",
    err_not_in_sample: "This case is in no review sample of your region.",
    err_reviewed: "This case has been reviewed already; each case is reviewed once.",
    err_score: "Choose a score from 1 to 5.",
    err_comment: "Write a comment.",
    err_too_long: "The comment is too long (at most 1,000 characters).",
    err_photo: "The photo cannot be used: it must be one you uploaded that no case holds yet.",
    err_period: "The period is not valid: give a start and an end date, at most 366 days apart.",
    err_period_not_over: "This period is not over yet; its sample can be drawn once it is.",
};

impl ReviewTr {
    /// A submitted review's refusal in this language.
    pub fn submit_error(&self, e: &ServiceError) -> &'static str {
        match e {
            ServiceError::NotFound(_) => self.err_not_in_sample,
            ServiceError::Conflict(_) => self.err_reviewed,
            ServiceError::TooLong(_) => self.err_too_long,
            ServiceError::Invalid(m) if m.starts_with("score") => self.err_score,
            ServiceError::Invalid(m) if m.starts_with("comment") => self.err_comment,
            _ => self.err_photo,
        }
    }

    /// The word of a score (1–5).
    pub fn score_word(&self, score: u8) -> &'static str {
        self.score_words
            .get(usize::from(score.clamp(1, 5)) - 1)
            .copied()
            .unwrap_or_default()
    }
}

impl Lang {
    /// The review page's strings.
    pub fn reviews(self) -> &'static ReviewTr {
        match self {
            Lang::Zh => &REVIEWS_ZH,
            Lang::En => &REVIEWS_EN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityops_domain::review::ReviewError;

    #[test]
    fn refusals_are_named_in_each_language() {
        for lang in [Lang::Zh, Lang::En] {
            let r = lang.reviews();
            let score: ServiceError = ReviewError::Score(9).into();
            let comment: ServiceError = ReviewError::EmptyComment.into();
            assert_eq!(r.submit_error(&score), r.err_score);
            assert_eq!(r.submit_error(&comment), r.err_comment);
            assert_eq!(
                r.submit_error(&ServiceError::Conflict("x".into())),
                r.err_reviewed
            );
            assert_eq!(
                r.submit_error(&ServiceError::NotFound("x".into())),
                r.err_not_in_sample
            );
            assert_eq!(
                r.submit_error(&ServiceError::Invalid("attachment x".into())),
                r.err_photo
            );
            assert!(r.score_word(5).starts_with('5'));
            assert!(r.score_word(0).starts_with('1'));
        }
    }
}
