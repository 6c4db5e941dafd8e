//! Property tests of contact masking (个人信息脱敏) with CJK names and mainland phone numbers: the
//! masked text never shows a whole name or a whole phone, keeps the surname and the phone's
//! first three and last four digits, has the length of the original, and masking it again
//! changes nothing.
use cityops_domain::privacy::{mask_contact, mask_name, mask_phone};
use proptest::prelude::*;

/// Common CJK surnames and given-name characters (none of them a label like 电话 or 先生).
const SURNAMES: &str = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤";
const GIVEN: &str = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌宇浩凯鹏飞俊峰雪梅琳婷晨阳欣怡子涵思雨嘉豪博轩";

fn name() -> impl Strategy<Value = String> {
    let s: Vec<char> = SURNAMES.chars().collect();
    let g: Vec<char> = GIVEN.chars().collect();
    (
        proptest::sample::select(s),
        proptest::collection::vec(proptest::sample::select(g), 1..=3),
    )
        .prop_map(|(s, g)| std::iter::once(s).chain(g).collect())
}

/// A mainland mobile number: 1, then 3–9, then nine digits.
fn phone() -> impl Strategy<Value = String> {
    (3u8..=9, proptest::collection::vec(0u8..=9, 9)).prop_map(|(second, rest)| {
        std::iter::once(1u8)
            .chain(std::iter::once(second))
            .chain(rest)
            .map(|d| char::from(b'0' + d))
            .collect()
    })
}

fn separator() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(vec!["", " ", "/", "，", "：", " 电话 ", "\u{3000}", "、"])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn a_name_and_a_phone_are_masked(name in name(), phone in phone(), sep in separator(), phone_first in any::<bool>()) {
        let contact = if phone_first { format!("{phone}{sep}{name}") } else { format!("{name}{sep}{phone}") };
        let masked = mask_contact(&contact);
        prop_assert_eq!(masked.chars().count(), contact.chars().count());
        prop_assert!(!masked.contains(&phone), "{} shows the phone", masked);
        prop_assert!(!masked.contains(&name), "{} shows the name", masked);
        // What stays: the surname, the phone's first three and last four digits.
        let expected_phone = format!("{}****{}", &phone[..3], &phone[7..]);
        prop_assert!(masked.contains(&expected_phone), "{} lacks {}", masked, expected_phone);
        prop_assert!(masked.contains(&mask_name(&name)), "{} lacks {}", masked, mask_name(&name));
        let head = if phone_first { phone[..3].to_string() } else { name.chars().take(1).collect() };
        prop_assert!(masked.starts_with(&head), "{} does not start with {}", masked, head);
        prop_assert_eq!(mask_contact(&masked), masked.clone(), "masking twice changes nothing");
    }

    #[test]
    fn any_text_keeps_its_length_and_loses_long_numbers(text in "[0-9０-９ a-zA-Z张王三明电话先生/+\\-：]{0,40}") {
        let masked = mask_contact(&text);
        prop_assert_eq!(masked.chars().count(), text.chars().count());
        prop_assert_eq!(mask_contact(&masked), masked.clone());
        // No run of seven or more digits (a phone) survives.
        let mut run = 0;
        for c in masked.chars() {
            run = if c.is_ascii_digit() || ('０'..='９').contains(&c) { run + 1 } else { 0 };
            prop_assert!(run < 7, "{} keeps a long number", masked);
        }
    }

    #[test]
    fn phones_keep_three_and_four(phone in phone()) {
        let m = mask_phone(&phone);
        prop_assert_eq!(&m[..3], &phone[..3]);
        prop_assert_eq!(&m[3..7], "****");
        prop_assert_eq!(&m[7..], &phone[7..]);
    }
}
