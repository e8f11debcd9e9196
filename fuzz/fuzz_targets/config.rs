//! Loading and building any config text never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(file) = corsair::ConfigFile::from_toml(text) {
            let _ = corsair::Policy::new(&file.cors);
        }
    }
});
