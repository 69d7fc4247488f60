//! The models page: the catalogue of local models with downloads and their
//! progress, and the models loaded in memory with unload.

use std::cell::RefCell;
use std::collections::HashMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::SystemStatus;
use serde::Deserialize;
use serde_json::Value;

use crate::api::{self, EventStream};
use crate::ErrorLine;

/// A model download as `/api/models/{name}/pull` and `/api/models/events` return it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct ModelPull {
    name: String,
    status: String,
    files: Vec<FileProgress>,
    error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct FileProgress {
    done_bytes: u64,
    total_bytes: u64,
}

impl ModelPull {
    fn fraction(&self) -> f64 {
        let done: u64 = self.files.iter().map(|file| file.done_bytes).sum();
        let total: u64 = self.files.iter().map(|file| file.total_bytes).sum();
        if self.status == "done" {
            1.0
        } else if total == 0 {
            0.0
        } else {
            done as f64 / total as f64
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct CatalogueEntry {
    name: String,
    domain: &'static str,
    provider: String,
    external: bool,
    description: String,
}

thread_local! {
    /// Reader of the open `/api/models/events` stream, cancelled when the page closes.
    static PULL_EVENTS: RefCell<Option<web_sys::ReadableStreamDefaultReader>> = const { RefCell::new(None) };
}

async fn load_catalogue() -> Result<Vec<CatalogueEntry>, api::ApiError> {
    let mut entries = Vec::new();
    for domain in ["images", "texts", "videos"] {
        let response: Value = api::get_json(&format!("/api/{domain}/models")).await?;
        let models = response
            .get("models")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (name, info) in models {
            let text = |field: &str| info.get(field).and_then(Value::as_str).unwrap_or_default().to_owned();
            entries.push(CatalogueEntry {
                name,
                domain,
                provider: text("provider"),
                external: info.get("external").and_then(Value::as_bool).unwrap_or(false),
                description: text("description"),
            });
        }
    }
    Ok(entries)
}

#[component]
pub fn ModelsPage() -> impl IntoView {
    let catalogue = RwSignal::new(Vec::<CatalogueEntry>::new());
    let pulls = RwSignal::new(HashMap::<String, ModelPull>::new());
    let loaded = RwSignal::new(Vec::<String>::new());
    let error = RwSignal::new(None::<String>);

    let refresh_loaded = move || {
        spawn_local(async move {
            match api::get_json::<SystemStatus>("/api/system").await {
                Ok(system) => loaded.set(system.loaded_models),
                Err(failure) => error.set(Some(failure.to_string())),
            }
        })
    };
    refresh_loaded();

    spawn_local(async move {
        match load_catalogue().await {
            Ok(entries) => {
                for entry in entries.iter().filter(|entry| !entry.external) {
                    if let Ok(pull) = api::get_json::<ModelPull>(&format!("/api/models/{}/pull", entry.name)).await {
                        pulls.update(|pulls| {
                            pulls.insert(pull.name.clone(), pull);
                        });
                    }
                }
                catalogue.set(entries);
            }
            Err(failure) => error.set(Some(format!("Could not load the models: {failure}"))),
        }
    });

    spawn_local(async move {
        let Ok(mut stream) = EventStream::open("/api/models/events").await else {
            return;
        };
        PULL_EVENTS.with(|slot| *slot.borrow_mut() = Some(stream.reader()));
        while let Some(event) = stream.next().await {
            let Ok(pull) = serde_json::from_str::<ModelPull>(&event.data) else {
                continue;
            };
            if pulls
                .try_update(|pulls| {
                    pulls.insert(pull.name.clone(), pull);
                })
                .is_none()
            {
                break;
            }
        }
    });
    on_cleanup(|| {
        PULL_EVENTS.with(|slot| {
            if let Some(reader) = slot.borrow_mut().take() {
                let _ = reader.cancel();
            }
        })
    });

    let download = move |name: String| {
        spawn_local(async move {
            match api::call_json::<ModelPull>("POST", &format!("/api/models/{name}/pull"), None).await {
                Ok(pull) => pulls.update(|pulls| {
                    pulls.insert(pull.name.clone(), pull);
                }),
                Err(failure) => error.set(Some(format!("Download of {name} failed: {failure}"))),
            }
        })
    };
    let unload = move |name: String| {
        spawn_local(async move {
            match api::call("POST", &format!("/api/models/{name}/unload"), None).await {
                Ok(_) => refresh_loaded(),
                Err(failure) => error.set(Some(format!("Unload of {name} failed: {failure}"))),
            }
        })
    };

    view! {
        <h1>"Models"</h1>
        <ErrorLine error=error/>
        <h2>"Loaded in memory"</h2>
        <Show
            when=move || loaded.with(|names| !names.is_empty())
            fallback=|| view! { <p class="hint">"No local model is loaded."</p> }
        >
            <ul class="loaded">
                {move || loaded.get().into_iter().map(|name| {
                    let target = name.clone();
                    view! { <li>{name} " " <button class="secondary" on:click=move |_| unload(target.clone())>"Unload"</button></li> }
                }).collect_view()}
            </ul>
        </Show>
        <h2>"Catalogue"</h2>
        <p class="hint">"The server does not report whether a local model is installed; a download of an installed model ends at once."</p>
        <table id="catalogue">
            <thead><tr><th>"Model"</th><th>"Domain"</th><th>"Provider"</th><th>"Description"</th><th>"Download"</th></tr></thead>
            <tbody>
                {move || catalogue.get().into_iter().map(|entry| {
                    let name = entry.name.clone();
                    let pull = move || pulls.with(|pulls| pulls.get(&name).cloned());
                    let target = entry.name.clone();
                    let pull_cell = if entry.external {
                        view! { <span class="hint">"runs at the provider"</span> }.into_any()
                    } else {
                        view! {
                            {move || match pull() {
                                Some(pull) => view! {
                                    <progress max="1" value=pull.fraction()></progress>
                                    {format!(" {:.0}% {}", pull.fraction() * 100.0, pull.status)}
                                    {pull.error.map(|message| view! { <p class="error">{message}</p> })}
                                }.into_any(),
                                None => view! { <button class="secondary" on:click={
                                    let target = target.clone();
                                    move |_| download(target.clone())
                                }>"Download"</button> }.into_any(),
                            }}
                        }.into_any()
                    };
                    view! {
                        <tr>
                            <td>{entry.name.clone()}</td>
                            <td>{entry.domain}</td>
                            <td>{entry.provider.clone()}</td>
                            <td>{entry.description.clone()}</td>
                            <td>{pull_cell}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
