//! Web UI of Deferred Diffusion, rendered in the browser from WebAssembly.
//! The server serves it at `/ui`; every page routes on the client.

mod api;
mod desktop;
mod gallery;
mod generate;
mod models;
mod queue;
mod settings;
mod store;
mod task;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::store::Store;

fn main() {
    console_error_panic_hook();
    leptos::mount::mount_to_body(App);
    desktop::announce_ready();
}

/// Sends panics to the browser console, where they are easier to find than
/// in the default "unreachable executed".
fn console_error_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&info.to_string().into());
    }));
}

#[component]
fn App() -> impl IntoView {
    let store = Store::new();
    provide_context(store);
    if store.key.get_untracked().is_some() {
        store.start();
    }

    view! {
        <Router>
            <Show when=move || store.key.get().is_some() fallback=SignIn>
                <Header/>
                <Show when=move || !store.connected.get()>
                    <div class="banner" id="connection-banner">
                        "Connection to the server lost. Reconnecting…"
                    </div>
                </Show>
                <main>
                    <Routes fallback=|| view! {
                        <h1>"Page not found"</h1>
                        <p><a href="/ui">"Back to the queue"</a></p>
                    }>
                        <Route path=path!("/ui") view=queue::QueuePage/>
                        <Route path=path!("/ui/tasks/:id") view=task::TaskPage/>
                        <Route path=path!("/ui/generate") view=generate::GeneratePage/>
                        <Route path=path!("/ui/gallery") view=gallery::GalleryPage/>
                        <Route path=path!("/ui/models") view=models::ModelsPage/>
                        <Route path=path!("/ui/settings") view=settings::SettingsPage/>
                    </Routes>
                </main>
            </Show>
        </Router>
    }
}

#[component]
fn Header() -> impl IntoView {
    let store = expect_context::<Store>();
    view! {
        <header>
            <span class="brand">"Deferred Diffusion"</span>
            <nav>
                <a href="/ui">"Queue"</a>
                <a href="/ui/generate">"Generate"</a>
                <a href="/ui/gallery">"Gallery"</a>
                <a href="/ui/models">"Models"</a>
                <a href="/ui/settings">"Settings"</a>
            </nav>
            <button class="secondary" on:click=move |_| store.sign_out()>"Sign out"</button>
        </header>
    }
}

#[component]
fn SignIn() -> impl IntoView {
    let store = expect_context::<Store>();
    let key = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let checking = RwSignal::new(false);

    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let candidate = key.get_untracked().trim().to_owned();
        if candidate.is_empty() {
            error.set(Some("Enter an API key.".into()));
            return;
        }
        checking.set(true);
        spawn_local(async move {
            match api::call_with_key("GET", "/api/system", None, Some(&candidate)).await {
                Ok(_) => {
                    error.set(None);
                    store.sign_in(candidate);
                }
                Err(failure) => error.set(Some(failure.to_string())),
            }
            checking.set(false);
        });
    };

    view! {
        <main class="sign-in">
            <h1>"Deferred Diffusion"</h1>
            <form on:submit=submit>
                <label>
                    "API key"
                    <input id="api-key" type="password" autocomplete="off" placeholder="dd_…" bind:value=key/>
                </label>
                <button id="sign-in" type="submit" disabled=move || checking.get()>"Sign in"</button>
            </form>
            <p class="hint">
                "Create a key on the server with "
                <code>"ddiffusion keys create NAME"</code>
                ". This browser keeps it in local storage."
            </p>
            <Show when=move || error.get().is_some()>
                <p class="error">{move || error.get()}</p>
            </Show>
        </main>
    }
}

/// A paragraph with an error message, shown only when there is one.
#[component]
pub fn ErrorLine(error: RwSignal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || error.get().is_some()>
            <p class="error">{move || error.get()}</p>
        </Show>
    }
}

/// A paragraph with an informational message, shown only when there is one.
#[component]
pub fn Notice(message: RwSignal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || message.get().is_some()>
            <p class="notice">{move || message.get()}</p>
        </Show>
    }
}
