//! `embed_migrations!("dir")`: every `*.json` file of `dir` (relative to the calling crate's
//! `Cargo.toml`), sorted by name, as `&[(file name, include_str!(file))]`. `include_str!` makes
//! a change to a file rebuild the crate; an added or removed file needs a `cargo clean -p` or a
//! touch of the calling file, as with `sqlx::migrate!`.

use proc_macro::{TokenStream, TokenTree};

#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    match expand(input) {
        Ok(ts) => ts,
        Err(msg) => format!("compile_error!({msg:?})")
            .parse()
            .unwrap_or_default(),
    }
}

fn expand(input: TokenStream) -> Result<TokenStream, String> {
    let mut tokens = input.into_iter();
    let dir = match (tokens.next(), tokens.next()) {
        (Some(TokenTree::Literal(lit)), None) => {
            let s = lit.to_string();
            s.strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .map(str::to_string)
                .ok_or("embed_migrations! takes one string literal: the directory")?
        }
        _ => return Err("embed_migrations! takes one string literal: the directory".into()),
    };
    let root = std::env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?;
    let path = std::path::Path::new(&root).join(&dir);
    let entries = std::fs::read_dir(&path)
        .map_err(|e| format!("cannot read migrations directory {}: {e}", path.display()))?;
    let mut files: Vec<(String, String)> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let name = entry.file_name().to_string_lossy().to_string();
        if name.ends_with(".json") {
            let full = entry.path().canonicalize().map_err(|e| e.to_string())?;
            files.push((name, full.to_string_lossy().to_string()));
        }
    }
    files.sort();
    let items: Vec<String> = files
        .iter()
        .map(|(name, full)| format!("({name:?}, include_str!({full:?}))"))
        .collect();
    format!("&[{}]", items.join(", "))
        .parse()
        .map_err(|e| format!("{e:?}"))
}
