//! The TypeScript declarations of everything the API takes and returns (emitted into
//! `pkg/rewind.d.ts`).

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = include_str!("types.d.ts");
