//! The device import file (设备台账导入): one device a line, read whole by the shared CSV reader
//! (`cityops_csv`) and checked before anything is returned, so that an import is all or nothing.
//!
//! ```text
//! id,type,name,lng,lat,component_id,department_code,profile,responsible,active
//! HZ-GAS-000001,gas_detector,文明一路 燃气阀门井 可燃气体监测仪 1#,114.4153,23.1102,,441300-gas,,,
//! HZ-NS-000001,noise,惠城区江北住宅项目工地 噪声监测仪 1#,114.41,23.12,,441302-enforcement,,张工 13900001234,是
//! ```
//!
//! `id`, `type`, `name`, `lng`, `lat` are required; the other columns may be left out of the header
//! or empty: `profile` defaults to the type's [`DeviceType::default_profile`], `active` to true
//! (`true`/`false`/`1`/`0`/`是`/`否`). `type` is the code (`gas_detector`) or the Chinese name
//! (`可燃气体监测仪`). Coordinates are WGS84 and must lie within China's extent. The located codes
//! and the department id are left `None`: the registry fills them when it stores the devices.
//!
//! Every error names the 1-based line of the file (the header is line 1) and, where one field is
//! at fault, the column: `device file line 3: column lng: …`.
use std::collections::HashMap;

use cityops_csv::{CsvError, Row, Table};

use super::device::{Device, DeviceRecord, DeviceType, check_device_id};
use crate::{ComponentId, DomainError};

/// The columns of a device file, in the documented order.
pub const DEVICE_CSV_COLUMNS: [&str; 10] = [
    "id",
    "type",
    "name",
    "lng",
    "lat",
    "component_id",
    "department_code",
    "profile",
    "responsible",
    "active",
];

/// The columns that must be present (and non-empty on every line).
const REQUIRED: [&str; 5] = ["id", "type", "name", "lng", "lat"];

/// The longest device name (characters).
pub const DEVICE_NAME_MAX: usize = 100;
/// The longest responsible party, profile code and department code (characters).
const TEXT_MAX: usize = 200;
const CODE_MAX: usize = 64;

/// China's extent (WGS84): longitude 73–136 E, latitude 3–54 N.
pub const CHINA_LNG: (f64, f64) = (73.0, 136.0);
pub const CHINA_LAT: (f64, f64) = (3.0, 54.0);

/// The error of a CSV problem: `device file line N: [column c: ]message`.
fn line_error(e: CsvError) -> DomainError {
    DomainError::Invalid(format!("device file line {}: {}", e.line, e.detail()))
}

/// Parses a device file (see the module documentation). Either every line is a valid device or
/// the first problem is returned, naming its line.
pub fn parse_devices_csv(text: &str) -> Result<Vec<DeviceRecord>, DomainError> {
    let table = cityops_csv::read(text).map_err(line_error)?;
    check_header(&table).map_err(line_error)?;
    table.check_widths().map_err(line_error)?;
    let mut first_line: HashMap<String, u64> = HashMap::with_capacity(table.rows().len());
    let mut out = Vec::with_capacity(table.rows().len());
    for row in table.rows() {
        let record = parse_row(&table, row).map_err(line_error)?;
        if let Some(first) = first_line.insert(record.device.id.clone(), row.line()) {
            return Err(line_error(row.error_in(
                "id",
                format!(
                    "device id {:?} is already given on line {first}",
                    record.device.id
                ),
            )));
        }
        out.push(record);
    }
    Ok(out)
}

/// The required columns are there and every column is one we know.
fn check_header(table: &Table) -> Result<(), CsvError> {
    table.require_columns("device", &REQUIRED)?;
    let unknown: Vec<&str> = table
        .header()
        .iter()
        .map(String::as_str)
        .filter(|h| !h.is_empty() && !DEVICE_CSV_COLUMNS.contains(h))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(CsvError::at_line(
        table.header_line(),
        format!(
            "unknown column(s) {} in the device header; expected {}",
            unknown.join(", "),
            DEVICE_CSV_COLUMNS.join(",")
        ),
    ))
}

fn parse_row(table: &Table, row: &Row) -> Result<DeviceRecord, CsvError> {
    let id = table.require(row, "id")?;
    check_device_id(id).map_err(|e| row.error_in("id", e.to_string()))?;

    let type_text = table.require(row, "type")?;
    let device_type = DeviceType::ALL
        .iter()
        .copied()
        .find(|t| t.as_str() == type_text || t.name_zh() == type_text)
        .ok_or_else(|| {
            let known: Vec<&str> = DeviceType::ALL.iter().map(|t| t.as_str()).collect();
            row.error_in(
                "type",
                format!(
                    "unknown device type {type_text:?}: expected one of {}",
                    known.join(", ")
                ),
            )
        })?;

    let name = table.require(row, "name")?;
    check_text(row, "name", name, DEVICE_NAME_MAX)?;

    let lng = coordinate(table, row, "lng", CHINA_LNG, "E")?;
    let lat = coordinate(table, row, "lat", CHINA_LAT, "N")?;

    let component_id = match table.get(row, "component_id") {
        None => None,
        Some(c) => Some(
            ComponentId::parse(c)
                .map_err(|e| row.error_in("component_id", e.to_string()))?
                .as_str()
                .to_string(),
        ),
    };
    let department_code = optional_text(table, row, "department_code", CODE_MAX)?;
    let profile = optional_text(table, row, "profile", CODE_MAX)?
        .unwrap_or_else(|| device_type.default_profile().to_string());
    let responsible = optional_text(table, row, "responsible", TEXT_MAX)?;
    let active = match table.get(row, "active") {
        None => true,
        Some(a) => parse_active(a).ok_or_else(|| {
            row.error_in(
                "active",
                format!("{a:?} is not one of true, false, 1, 0, 是, 否"),
            )
        })?,
    };

    Ok(DeviceRecord {
        device: Device {
            id: id.to_string(),
            device_type,
            name: name.to_string(),
            lng,
            lat,
            grid_code: None,
            community_code: None,
            street_code: None,
            district_code: None,
            component_id,
            department_id: None,
            profile,
            responsible,
            active,
        },
        department_code,
    })
}

/// A longitude or latitude: a finite number within China's extent.
fn coordinate(
    table: &Table,
    row: &Row,
    column: &str,
    (lo, hi): (f64, f64),
    hemisphere: &str,
) -> Result<f64, CsvError> {
    let text = table.require(row, column)?;
    let value: f64 = text
        .parse()
        .map_err(|_| row.error_in(column, format!("{text:?} is not a number")))?;
    if !value.is_finite() || value < lo || value > hi {
        return Err(row.error_in(
            column,
            format!("{text} is outside China ({lo}–{hi} {hemisphere})"),
        ));
    }
    Ok(value)
}

/// A text of at most `max` characters without control characters.
fn check_text(row: &Row, column: &str, text: &str, max: usize) -> Result<(), CsvError> {
    let chars = text.chars().count();
    if chars > max {
        return Err(row.error_in(
            column,
            format!("{column} has {chars} characters; at most {max} are allowed"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(row.error_in(column, format!("{column} contains a control character")));
    }
    Ok(())
}

fn optional_text(
    table: &Table,
    row: &Row,
    column: &str,
    max: usize,
) -> Result<Option<String>, CsvError> {
    match table.get(row, column) {
        None => Ok(None),
        Some(t) => {
            check_text(row, column, t, max)?;
            Ok(Some(t.to_string()))
        }
    }
}

fn parse_active(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "是" => Some(true),
        "false" | "0" | "否" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "id,type,name,lng,lat,component_id,department_code,profile,responsible,active";

    /// The error text of parsing `HEADER` + `lines`.
    fn error_of(lines: &str) -> String {
        let text = format!("{HEADER}\n{lines}");
        match parse_devices_csv(&text) {
            Ok(d) => panic!("expected an error, parsed {} devices", d.len()),
            Err(DomainError::Invalid(m)) => m,
            Err(other) => panic!("unexpected error kind: {other:?}"),
        }
    }

    const GOOD_GAS: &str =
        "HZ-GAS-000001,gas_detector,文明一路 可燃气体监测仪 1#,114.4153,23.1102,,441300-gas,,,";

    #[test]
    fn a_good_file_with_bom_and_crlf() {
        let text = format!(
            "\u{feff}{HEADER}\r\n\
             {GOOD_GAS}\r\n\
             \r\n\
             HZ-NS-000001,noise,\"惠城区江北住宅项目工地 噪声监测仪 1#\",114.41,23.12,,441302-enforcement,site_noise,张工 13900001234,是\r\n\
             HZ-MH-000007,窨井液位计,麦地路 雨水井 7# 液位计,114.40,23.08,44130201002000007,,,,0\r\n"
        );
        let devices = parse_devices_csv(&text).unwrap();
        assert_eq!(devices.len(), 3);

        let gas = &devices[0];
        assert_eq!(gas.device.id, "HZ-GAS-000001");
        assert_eq!(gas.device.device_type, DeviceType::GasDetector);
        assert_eq!(gas.device.name, "文明一路 可燃气体监测仪 1#");
        assert_eq!((gas.device.lng, gas.device.lat), (114.4153, 23.1102));
        assert_eq!(gas.device.profile, "gas_detector", "the type's default");
        assert!(gas.device.active, "active by default");
        assert_eq!(gas.device.component_id, None);
        assert_eq!(gas.department_code.as_deref(), Some("441300-gas"));
        assert_eq!(gas.device.responsible, None);
        assert_eq!(gas.device.grid_code, None);
        assert_eq!(gas.device.district_code, None);
        assert_eq!(gas.device.department_id, None);

        let noise = &devices[1];
        assert_eq!(noise.device.device_type, DeviceType::Noise);
        assert_eq!(noise.device.profile, "site_noise");
        assert_eq!(
            noise.device.responsible.as_deref(),
            Some("张工 13900001234")
        );
        assert!(noise.device.active);

        let manhole = &devices[2];
        assert_eq!(manhole.device.device_type, DeviceType::ManholeLevel);
        assert_eq!(
            manhole.device.component_id.as_deref(),
            Some("44130201002000007")
        );
        assert_eq!(manhole.department_code, None);
        assert!(!manhole.device.active);
    }

    #[test]
    fn optional_columns_may_be_left_out_and_active_takes_every_spelling() {
        let text = "lat,lng,name,type,id,active\n\
                    23.1,114.4,a,rain_gauge,A1,TRUE\n\
                    23.1,114.4,b,rain_gauge,A2,False\n\
                    23.1,114.4,c,rain_gauge,A3,1\n\
                    23.1,114.4,d,rain_gauge,A4,否\n";
        let d = parse_devices_csv(text).unwrap();
        let active: Vec<bool> = d.iter().map(|r| r.device.active).collect();
        assert_eq!(active, [true, false, true, false]);
        assert!(d.iter().all(|r| r.device.profile == "rain_gauge"));
        assert!(
            parse_devices_csv(HEADER).unwrap().is_empty(),
            "a header alone"
        );
    }

    #[test]
    fn each_error_names_its_line() {
        let cases: &[(&str, &str)] = &[
            // (lines after the header, expected start of the message)
            (
                "bad/id,gas_detector,x,114,23,,,,,",
                "device file line 2: column id:",
            ),
            (
                "A1,gas_detector,x,114,23,,,,,\nA2,toaster,x,114,23,,,,,",
                "device file line 3: column type: unknown device type \"toaster\"",
            ),
            (
                "A1,gas_detector,x,200,23,,,,,",
                "device file line 2: column lng:",
            ),
            (
                "A1,gas_detector,x,114,60,,,,,",
                "device file line 2: column lat:",
            ),
            (
                "A1,gas_detector,x,114,2.5,,,,,",
                "device file line 2: column lat:",
            ),
            (
                "A1,gas_detector,x,NaN,23,,,,,",
                "device file line 2: column lng:",
            ),
            (
                "A1,gas_detector,x,inf,23,,,,,",
                "device file line 2: column lng:",
            ),
            (
                "A1,gas_detector,x,east,23,,,,,",
                "device file line 2: column lng: \"east\" is not a number",
            ),
            (
                "A1,gas_detector,x,114,,,,,,",
                "device file line 2: column lat: lat is empty",
            ),
            (
                "A1,gas_detector,x,114,23,4413020100100004,,,,",
                "device file line 2: column component_id:",
            ),
            (
                "A1,gas_detector,x,114,23,4413020100100004a,,,,",
                "device file line 2: column component_id:",
            ),
            (
                "A1,gas_detector,x,114,23,,,,,\n\nA2,gas_detector,y,114,23,,,,,\nA1,gas_detector,z,114,23,,,,,",
                "device file line 5: column id: device id \"A1\" is already given on line 2",
            ),
            (
                "A1,gas_detector,,114,23,,,,,",
                "device file line 2: column name: name is empty",
            ),
            (
                "A1,gas_detector,  ,114,23,,,,,",
                "device file line 2: column name: name is empty",
            ),
            (
                "A1,gas_detector,\"a\nb\",114,23,,,,,",
                "device file line 2: column name: name contains a control character",
            ),
            (
                "A1,gas_detector,x,114,23,,,,,maybe",
                "device file line 2: column active:",
            ),
            (
                "A1,gas_detector,x,114,23,,,,",
                "device file line 2: expected 10 fields",
            ),
        ];
        for (lines, want) in cases {
            let got = error_of(lines);
            assert!(
                got.starts_with(want),
                "{lines:?}\n got: {got}\nwant: {want}…"
            );
        }
        // A name of 100 characters is fine, 101 is not.
        let ok = format!(
            "A1,gas_detector,{},114,23,,,,,",
            "名".repeat(DEVICE_NAME_MAX)
        );
        assert!(parse_devices_csv(&format!("{HEADER}\n{ok}")).is_ok());
        let long = format!(
            "A1,gas_detector,{},114,23,,,,,",
            "名".repeat(DEVICE_NAME_MAX + 1)
        );
        assert!(
            error_of(&long).starts_with("device file line 2: column name: name has 101 characters")
        );
    }

    #[test]
    fn header_errors_name_line_one() {
        let e = parse_devices_csv("id,type,name,lng\nA1,gas_detector,x,114\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "device file line 1: the device header lacks column(s) lat; expected id,type,name,lng,lat"
        );
        let e = parse_devices_csv("id,type,name,lng,lat,colour\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("device file line 1: unknown column(s) colour"),
            "{e}"
        );
        let e = parse_devices_csv("").unwrap_err();
        assert!(e.to_string().starts_with("device file line 1:"), "{e}");
    }
}
