//! Rewind for JavaScript (issue 6): the `Rewind` class exported through wasm-bindgen.
