//! 运行监测 (operation monitoring): the devices watching the city's lifelines, their readings,
//! the rules that judge them and the alarms the rules raise (PRODUCT.md §5, STANDARDS.md §8).
//!
//! Pure like the rest of the domain: the rule engine keeps its state in plain values the caller
//! holds, and every "now" is an argument.
pub mod alarm;
pub mod csv;
pub mod device;
pub mod rules;

pub use alarm::{Alarm, AlarmStatus, ReminderPolicy, ReminderStep};
pub use csv::{DEVICE_CSV_COLUMNS, DEVICE_NAME_MAX, parse_devices_csv};
pub use device::{
    DEVICE_ID_MAX, Device, DeviceRecord, DeviceType, Metric, Reading, ReadingWindow, RejectReason,
    check_device_id, check_reading,
};
pub use rules::{AlarmSignal, Direction, Rule, RuleKind, RuleState};
