//! `corsair import` reads configs from anywhere: for every target it must
//! never panic, and whatever it reads must export again (or be refused)
//! without panicking either.
#![no_main]

use corsair_export::{export, import, Options, Target};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let target = Target::ALL[usize::from(selector) % Target::ALL.len()];
    if let Ok(imported) = import(target, text) {
        let options = Options {
            approximate: true,
            ..Options::default()
        };
        let _ = export(&imported.routes, target, &options);
    }
});
