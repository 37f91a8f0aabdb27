//! Entry point of the recovery page.

#[cfg(target_arch = "wasm32")]
fn main() {
    rewind_web::panic::install();
    yew::Renderer::<rewind_web::App>::new().render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "The recovery page runs in a browser: build it with `trunk build` or run `make serve`."
    );
    std::process::exit(2);
}
