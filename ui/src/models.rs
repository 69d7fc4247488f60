//! The models page: every catalogue model with its install state, size and
//! licence, downloads with their progress, delete, and the models loaded in
//! memory with unload.

use std::cell::RefCell;
use std::collections::HashMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::settings::{CatalogModel, ModelRemoved};
use protocol::{Provider, SystemStatus};
use serde::Deserialize;

use crate::api::{self, EventStream};
use crate::{ErrorLine, Notice};

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

thread_local! {
    /// Reader of the open `/api/models/events` stream, cancelled when the page closes.
    static PULL_EVENTS: RefCell<Option<web_sys::ReadableStreamDefaultReader>> = const { RefCell::new(None) };
}

/// Formats a byte count with a binary unit, as `ddiffusion models list` does.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Returns the name a request uses for `provider`.
pub fn provider_name(provider: Provider) -> &'static str {
    match provider {
        Provider::Local => "local",
        Provider::Openai => "openai",
        Provider::Replicate => "replicate",
    }
}

/// Asks the user to confirm with the browser's dialog.
pub fn confirm(question: &str) -> bool {
    web_sys::window()
        .and_then(|window| window.confirm_with_message(question).ok())
        .unwrap_or(false)
}

#[component]
pub fn ModelsPage() -> impl IntoView {
    let catalogue = RwSignal::new(Vec::<CatalogModel>::new());
    let pulls = RwSignal::new(HashMap::<String, ModelPull>::new());
    let loaded = RwSignal::new(Vec::<String>::new());
    let error = RwSignal::new(None::<String>);
    let message = RwSignal::new(None::<String>);

    let refresh_loaded = move || {
        spawn_local(async move {
            match api::get_json::<SystemStatus>("/api/system").await {
                Ok(system) => loaded.set(system.loaded_models),
                Err(failure) => error.set(Some(failure.to_string())),
            }
        })
    };
    refresh_loaded();

    let reload = move || {
        spawn_local(async move {
            match api::get_json::<Vec<CatalogModel>>("/api/models").await {
                Ok(models) => catalogue.set(models),
                Err(failure) => error.set(Some(format!("Could not load the models: {failure}"))),
            }
        })
    };
    spawn_local(async move {
        match api::get_json::<Vec<CatalogModel>>("/api/models").await {
            Ok(models) => {
                for model in models.iter().filter(|model| model.provider == Provider::Local) {
                    if let Ok(pull) = api::get_json::<ModelPull>(&format!("/api/models/{}/pull", model.name)).await {
                        pulls.update(|pulls| {
                            pulls.insert(pull.name.clone(), pull);
                        });
                    }
                }
                catalogue.set(models);
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
            let finished = pull.status != "downloading";
            if pulls
                .try_update(|pulls| {
                    pulls.insert(pull.name.clone(), pull);
                })
                .is_none()
            {
                break;
            }
            if finished {
                reload();
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
                Ok(_) => {
                    refresh_loaded();
                    reload();
                }
                Err(failure) => error.set(Some(format!("Unload of {name} failed: {failure}"))),
            }
        })
    };
    let delete = move |name: String| {
        if !confirm(&format!(
            "Delete the files of {name}? A later job downloads them again."
        )) {
            return;
        }
        spawn_local(async move {
            match api::call_json::<ModelRemoved>("DELETE", &format!("/api/models/{name}"), None).await {
                Ok(removed) => {
                    error.set(None);
                    message.set(Some(format!(
                        "Deleted {name}: {} freed.",
                        human_size(removed.freed_bytes)
                    )));
                    pulls.update(|pulls| {
                        pulls.remove(&name);
                    });
                    refresh_loaded();
                    reload();
                }
                Err(failure) => error.set(Some(format!("Delete of {name} failed: {failure}"))),
            }
        })
    };

    view! {
        <h1>"Models"</h1>
        <ErrorLine error=error/>
        <Notice message=message/>
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
        <table id="catalogue">
            <thead><tr>
                <th>"Model"</th><th>"Domain"</th><th>"Provider"</th><th>"State"</th><th>"Size"</th>
                <th>"Licence"</th><th>"Description"</th><th></th>
            </tr></thead>
            <tbody>
                {move || catalogue.get().into_iter().map(|model| {
                    let name = model.name.clone();
                    let local = model.provider == Provider::Local;
                    let state = match (local, model.installed) {
                        (true, true) if model.loaded => "installed, loaded",
                        (true, true) => "installed",
                        (true, false) => "not installed",
                        (false, true) => "configured",
                        (false, false) => "not configured",
                    };
                    let size = model.size_bytes.filter(|bytes| *bytes > 0).map(human_size).unwrap_or_else(|| "–".into());
                    let licence = format!(
                        "{}{}",
                        model.license.clone().unwrap_or_else(|| "–".into()),
                        if model.gated { " (gated)" } else { "" }
                    );
                    let actions = if !local {
                        view! { <span class="hint">"runs at the provider"</span> }.into_any()
                    } else {
                        let for_pull = name.clone();
                        let for_download = name.clone();
                        let for_delete = name.clone();
                        let for_unload = name.clone();
                        let installed = model.installed;
                        let is_loaded = model.loaded;
                        let pull = move || pulls.with(|pulls| pulls.get(&for_pull).cloned());
                        view! {
                            {move || match pull().filter(|pull| pull.status == "downloading" || pull.error.is_some()) {
                                Some(pull) => view! {
                                    <progress max="1" value=pull.fraction()></progress>
                                    {format!(" {:.0}% {}", pull.fraction() * 100.0, pull.status)}
                                    {pull.error.map(|message| view! { <p class="error">{message}</p> })}
                                }.into_any(),
                                None => ().into_any(),
                            }}
                            <Show when=move || !installed>
                                <button class="secondary download" on:click={
                                    let target = for_download.clone();
                                    move |_| download(target.clone())
                                }>"Download"</button>
                            </Show>
                            <Show when=move || is_loaded>
                                <button class="secondary" on:click={
                                    let target = for_unload.clone();
                                    move |_| unload(target.clone())
                                }>"Unload"</button>
                            </Show>
                            <Show when=move || installed>
                                <button class="danger delete" data-model=for_delete.clone() on:click={
                                    let target = for_delete.clone();
                                    move |_| delete(target.clone())
                                }>"Delete"</button>
                            </Show>
                        }.into_any()
                    };
                    view! {
                        <tr data-model=name.clone()>
                            <td>{name.clone()}</td>
                            <td>{model.domain.as_str()}</td>
                            <td>{provider_name(model.provider)}</td>
                            <td class="state">{state}</td>
                            <td class="size">{size}</td>
                            <td class="licence">{licence}</td>
                            <td>{model.description.clone().unwrap_or_default()}</td>
                            <td class="actions">{actions}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
