//! Cases (案件): the closed loop "信息收集 → 立案 → 派遣 → 处置 → 反馈 → 核查 → 结案".
//!
//! [`types`] holds the record and its vocabulary, [`machine`] the state machine, [`event`] the
//! events, the audit hash chain and notifications, [`visibility`] who may see which case,
//! [`routing`] the responsibility matrix and [`duplicate`] the duplicate rule.
pub mod assign;
pub mod duplicate;
pub mod event;
pub mod facts;
pub mod machine;
pub mod routing;
pub mod types;
pub mod visibility;

pub use event::{
    BrokenLink, CaseEvent, GENESIS_HASH, NewCaseEvent, NewNotification, Notification, Recipient,
    chain_hash, verify_chain,
};
pub use facts::{CancelKind, CaseFacts};
pub use machine::{
    ActionInput, Actor, CaseError, Context, NewReport, Transition, WorkflowConfig, allowed_actions,
    apply, current_light, effective_handle_limit, light_recipient, mark_light, report,
};
pub use types::*;
pub use visibility::CaseVisibility;
