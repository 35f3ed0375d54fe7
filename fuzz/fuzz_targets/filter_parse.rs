//! The search filter parser on arbitrary input: it never panics, and a filter it accepts
//! renders to text that parses back to the same filter (unless the rendering's added
//! parentheses pass the length or depth limit).
#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_core::filter;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(parsed) = filter::parse(text) else {
        return;
    };
    match filter::parse(&parsed.to_string()) {
        Ok(again) => assert_eq!(again, parsed, "{text}"),
        Err(e) => assert!(
            e.problem.contains("bytes") || e.problem.contains("deeper"),
            "{text} rendered as {parsed} fails: {e}"
        ),
    }
});
