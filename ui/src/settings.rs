//! The settings page: the client settings that the plug-ins and scripts read
//! from their environment, remote server profiles, and, once the admin key is
//! entered, API keys, provider keys and server settings.

use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::keys::{KeyCreated, KeyInfo};
use protocol::settings::{KeySource, ProviderKeyStatus, ServerSettings, SettingsSaved};
use protocol::{Provider, SystemStatus};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api;
use crate::store::Store;
use crate::{ErrorLine, Notice};

/// A remote server profile as `/api/profiles` lists it, without its key.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct ProfileInfo {
    name: String,
    base_url: String,
    enabled: bool,
    has_key: bool,
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let store = expect_context::<Store>();
    let address = api::origin();
    let key = store.key.get_untracked().unwrap_or_default();
    let system = RwSignal::new(None::<SystemStatus>);
    spawn_local(async move {
        if let Ok(status) = api::get_json::<SystemStatus>("/api/system").await {
            system.set(Some(status));
        }
    });

    let address_line = format!("DDIFFUSION_API_ADDRESS={address}");
    let key_line = format!("DDIFFUSION_API_KEY={key}");
    view! {
        <h1>"Settings"</h1>
        <section>
            <h2>"Client settings"</h2>
            <p class="hint">"Set these in the environment of Nuke, Houdini or a script to send jobs to this server."</p>
            <CopyLine id="client-address" text=address_line/>
            <CopyLine id="client-key" text=key_line/>
        </section>
        <section>
            <h2>"Server"</h2>
            {move || system.get().map(|system| view! {
                <table class="details">
                    <tr><th>"Version"</th><td>{system.version}</td></tr>
                    <tr><th>"Devices"</th><td>{system.devices.join(", ")}</td></tr>
                    <tr><th>"Lanes"</th><td>{system.lanes.iter().map(|lane| format!("{}: {} running, {} waiting, {} at a time", lane.name, lane.running, lane.waiting, lane.concurrency)).collect::<Vec<_>>().join("; ")}</td></tr>
                    <tr><th>"Waiting"</th><td>{format!("{} of at most {}", system.waiting, system.backlog_limit)}</td></tr>
                </table>
            })}
        </section>
        <Profiles/>
        <AdminSection/>
    }
}

#[component]
fn CopyLine(id: &'static str, text: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let value = text.clone();
    view! {
        <p class="copy-line">
            <code id=id>{text}</code>
            " "
            <button class="secondary" on:click=move |_| {
                crate::desktop::copy(&value);
                copied.set(true);
            }>{move || if copied.get() { "Copied" } else { "Copy" }}</button>
        </p>
    }
}

#[component]
fn Profiles() -> impl IntoView {
    let profiles = RwSignal::new(Vec::<ProfileInfo>::new());
    let error = RwSignal::new(None::<String>);
    let message = RwSignal::new(None::<String>);
    let name = RwSignal::new(String::new());
    let base_url = RwSignal::new(String::new());
    let key = RwSignal::new(String::new());
    let enabled = RwSignal::new(true);

    let reload = move || {
        spawn_local(async move {
            match api::get_json::<Vec<ProfileInfo>>("/api/profiles").await {
                Ok(list) => profiles.set(list),
                Err(failure) => error.set(Some(format!("Could not load the profiles: {failure}"))),
            }
        })
    };
    reload();

    let save = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let profile = name.get_untracked().trim().to_owned();
        let mut body = json!({ "base_url": base_url.get_untracked().trim(), "enabled": enabled.get_untracked() });
        let api_key = key.get_untracked().trim().to_owned();
        if !api_key.is_empty() {
            body["api_key"] = Value::String(api_key);
        }
        let Some(admin_key) = stored_admin_key() else {
            error.set(Some(ADMIN_KEY_NEEDED.into()));
            return;
        };
        spawn_local(async move {
            let path = format!("/api/profiles/{profile}");
            match api::call_with_key("PUT", &path, Some(&body.to_string()), Some(&admin_key)).await {
                Ok(_) => {
                    error.set(None);
                    message.set(Some(format!("Saved the profile {profile}.")));
                    key.set(String::new());
                    reload();
                }
                Err(failure) => error.set(Some(format!("Saving {profile} failed: {failure}"))),
            }
        });
    };
    let test = move |profile: String| {
        message.set(Some(format!("Checking {profile}…")));
        spawn_local(async move {
            match api::call_json::<Value>("POST", &format!("/api/profiles/{profile}/test"), None).await {
                Ok(check) => {
                    let version = check
                        .get("version")
                        .and_then(Value::as_str)
                        .unwrap_or("unknown")
                        .to_owned();
                    let models = check.get("models").map(Value::to_string).unwrap_or_default();
                    error.set(None);
                    message.set(Some(format!("{profile} answers: version {version}, models {models}")));
                }
                Err(failure) => {
                    message.set(None);
                    error.set(Some(format!("Check of {profile} failed: {failure}")));
                }
            }
        });
    };
    let remove = move |profile: String| {
        let Some(admin_key) = stored_admin_key() else {
            error.set(Some(ADMIN_KEY_NEEDED.into()));
            return;
        };
        spawn_local(async move {
            let path = format!("/api/profiles/{profile}");
            match api::call_with_key("DELETE", &path, None, Some(&admin_key)).await {
                Ok(_) => {
                    error.set(None);
                    message.set(Some(format!("Removed the profile {profile}.")));
                    reload();
                }
                Err(failure) => error.set(Some(format!("Removing {profile} failed: {failure}"))),
            }
        });
    };

    view! {
        <section>
            <h2>"Remote server profiles"</h2>
            <ErrorLine error=error/>
            <Notice message=message/>
            <table id="profiles">
                <thead><tr><th>"Name"</th><th>"Address"</th><th>"Enabled"</th><th>"Key"</th><th></th></tr></thead>
                <tbody>
                    {move || profiles.get().into_iter().map(|profile| {
                        let for_test = profile.name.clone();
                        let for_remove = profile.name.clone();
                        view! {
                            <tr>
                                <td>{profile.name.clone()}</td>
                                <td>{profile.base_url.clone()}</td>
                                <td>{if profile.enabled { "yes" } else { "no" }}</td>
                                <td>{if profile.has_key { "set" } else { "none" }}</td>
                                <td class="actions">
                                    <button class="secondary" on:click=move |_| test(for_test.clone())>"Test"</button>
                                    <button class="danger" on:click=move |_| remove(for_remove.clone())>"Remove"</button>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <form class="job-form" id="profile-form" on:submit=save>
                <h3>"Add or change a profile"</h3>
                <div class="row">
                    <label>"Name" <input id="profile-name" required bind:value=name/></label>
                    <label>"Address" <input id="profile-url" required placeholder="http://gpu-box:5000" bind:value=base_url/></label>
                    <label>"API key" <input id="profile-key" type="password" autocomplete="off" placeholder="unchanged when empty" bind:value=key/></label>
                    <label class="checkbox"><input type="checkbox" bind:checked=enabled/> "Enabled"</label>
                </div>
                <button type="submit">"Save profile"</button>
            </form>
        </section>
    }
}

const ADMIN_KEY_STORAGE_NAME: &str = "ddiffusion.admin_key";

const ADMIN_KEY_NEEDED: &str =
    "Adding, changing or removing a profile needs the admin key: unlock Administration below first.";

/// Returns the admin key this browser keeps, if it was unlocked here.
fn stored_admin_key() -> Option<String> {
    api::stored_item(ADMIN_KEY_STORAGE_NAME).filter(|key| !key.is_empty())
}

/// Calls an admin route with `admin_key` and parses the JSON response.
async fn admin_call<T: serde::de::DeserializeOwned>(
    admin_key: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<T, api::ApiError> {
    let text = api::call_with_key(method, path, body, Some(admin_key)).await?;
    serde_json::from_str(&text).map_err(|error| api::ApiError {
        status: 200,
        message: format!("Invalid response from {path}: {error}"),
    })
}

/// True when the host of `bind` (`host:port`) is a loopback address.
fn is_loopback_bind(bind: &str) -> bool {
    let host = bind.trim().rsplit_once(':').map(|(host, _)| host).unwrap_or(bind);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.starts_with("127.") || host == "::1" || host.is_empty()
}

/// Renders the admin section. The admin key, which the desktop app stores
/// ahead of time, unlocks API keys, provider keys and server settings.
#[component]
fn AdminSection() -> impl IntoView {
    let stored = stored_admin_key();
    let admin_key = RwSignal::new(stored.clone());
    let candidate = RwSignal::new(String::new());
    let settings = RwSignal::new(None::<ServerSettings>);
    let error = RwSignal::new(None::<String>);

    let unlock = move |key: String| {
        spawn_local(async move {
            match admin_call::<ServerSettings>(&key, "GET", "/api/admin/settings", None).await {
                Ok(loaded) => {
                    api::store_item(ADMIN_KEY_STORAGE_NAME, &key);
                    error.set(None);
                    settings.set(Some(loaded));
                    admin_key.set(Some(key));
                }
                Err(failure) => {
                    admin_key.set(None);
                    error.set(Some(format!("The admin key was not accepted: {failure}")));
                }
            }
        })
    };
    if let Some(key) = stored {
        unlock(key);
    }
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let key = candidate.get_untracked().trim().to_owned();
        if key.is_empty() {
            error.set(Some("Enter the admin key.".into()));
            return;
        }
        candidate.set(String::new());
        unlock(key);
    };
    let lock = move |_| {
        if let Some(storage) = web_sys::window().and_then(|window| window.local_storage().ok().flatten()) {
            let _ = storage.remove_item(ADMIN_KEY_STORAGE_NAME);
        }
        admin_key.set(None);
        settings.set(None);
    };

    view! {
        <section id="admin">
            <h2>"Administration"</h2>
            <ErrorLine error=error/>
            <Show
                when=move || admin_key.get().is_some() && settings.get().is_some()
                fallback=move || view! {
                    <form id="admin-form" class="job-form" on:submit=submit>
                        <p class="hint">"The admin key is in the data folder (admin_key) or in DDIFFUSION_ADMIN_KEY. This browser keeps it in local storage."</p>
                        <div class="row">
                            <label>"Admin key" <input id="admin-key" type="password" autocomplete="off" bind:value=candidate/></label>
                        </div>
                        <button id="admin-unlock" type="submit">"Unlock"</button>
                    </form>
                }
            >
                {move || {
                    let key = admin_key.get().unwrap_or_default();
                    view! {
                        <p><button id="admin-lock" class="secondary" on:click=lock>"Forget the admin key"</button></p>
                        <ApiKeys admin_key=key.clone()/>
                        <ProviderKeys admin_key=key.clone() settings=settings/>
                        <ServerSettingsForm admin_key=key settings=settings/>
                    }
                }}
            </Show>
        </section>
    }
}

#[component]
fn ApiKeys(admin_key: String) -> impl IntoView {
    let keys = RwSignal::new(Vec::<KeyInfo>::new());
    let created = RwSignal::new(None::<KeyCreated>);
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let admin_key = StoredValue::new(admin_key);

    let reload = move || {
        let key = admin_key.get_value();
        spawn_local(async move {
            match admin_call::<Vec<KeyInfo>>(&key, "GET", "/api/admin/keys", None).await {
                Ok(list) => keys.set(list),
                Err(failure) => error.set(Some(format!("Could not load the API keys: {failure}"))),
            }
        })
    };
    reload();

    let create = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let key = admin_key.get_value();
        let key_name = name.get_untracked().trim().to_owned();
        let path = format!(
            "/api/admin/keys?name={}",
            String::from(js_sys::encode_uri_component(&key_name))
        );
        spawn_local(async move {
            match admin_call::<KeyCreated>(&key, "POST", &path, None).await {
                Ok(new_key) => {
                    error.set(None);
                    name.set(String::new());
                    created.set(Some(new_key));
                    reload();
                }
                Err(failure) => error.set(Some(format!("Creating the key failed: {failure}"))),
            }
        });
    };
    let revoke = move |key_id: String| {
        let key = admin_key.get_value();
        spawn_local(async move {
            let path = format!("/api/admin/keys/{key_id}");
            match admin_call::<serde_json::Value>(&key, "DELETE", &path, None).await {
                Ok(_) => {
                    error.set(None);
                    reload();
                }
                Err(failure) => error.set(Some(format!("Revoking {key_id} failed: {failure}"))),
            }
        });
    };

    view! {
        <h3>"API keys"</h3>
        <ErrorLine error=error/>
        {move || created.get().map(|new_key| view! {
            <div class="notice" id="new-key">
                <p>{format!("New key \"{}\": copy it now, it is not shown again.", new_key.name)}</p>
                <CopyLine id="new-key-value" text=new_key.api_key/>
            </div>
        })}
        <table id="api-keys">
            <thead><tr><th>"Name"</th><th>"ID"</th><th>"Created"</th><th></th></tr></thead>
            <tbody>
                {move || keys.get().into_iter().map(|key| {
                    let key_id = key.key_id.clone();
                    view! {
                        <tr data-key-name=key.name.clone()>
                            <td>{key.name.clone()}</td>
                            <td>{key.key_id.clone()}</td>
                            <td>{key.created_at.clone()}</td>
                            <td><button class="danger revoke" on:click=move |_| revoke(key_id.clone())>"Revoke"</button></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <form id="key-form" class="job-form" on:submit=create>
            <div class="row">
                <label>"Name" <input id="key-name" required placeholder="Houdini farm" bind:value=name/></label>
            </div>
            <button id="key-create" type="submit">"Create key"</button>
        </form>
    }
}

#[component]
fn ProviderKeys(admin_key: String, settings: RwSignal<Option<ServerSettings>>) -> impl IntoView {
    let admin_key = StoredValue::new(admin_key);
    let error = RwSignal::new(None::<String>);
    let message = RwSignal::new(None::<String>);
    let save = move |provider: &'static str, value: Option<String>| {
        let key = admin_key.get_value();
        let body = serde_json::json!({ "key": value }).to_string();
        spawn_local(async move {
            let path = format!("/api/admin/provider-keys/{provider}");
            match admin_call::<ProviderKeyStatus>(&key, "PUT", &path, Some(&body)).await {
                Ok(status) => {
                    error.set(None);
                    let state = if status.configured {
                        "configured"
                    } else {
                        "not configured"
                    };
                    message.set(Some(format!("{provider} is {state} now.")));
                    settings.update(|settings| {
                        if let Some(settings) = settings {
                            for entry in settings.provider_keys.iter_mut() {
                                if entry.provider == status.provider {
                                    *entry = status.clone();
                                }
                            }
                        }
                    });
                }
                Err(failure) => error.set(Some(format!("Saving the {provider} key failed: {failure}"))),
            }
        });
    };

    let row = move |provider: Provider, label: &'static str| {
        let name = crate::models::provider_name(provider);
        let value = RwSignal::new(String::new());
        let status = move || {
            settings.with(|settings| {
                settings.as_ref().and_then(|settings| {
                    settings
                        .provider_keys
                        .iter()
                        .find(|entry| entry.provider == provider)
                        .cloned()
                })
            })
        };
        let description = move || match status() {
            Some(status) if status.configured => match status.source {
                KeySource::Environment => format!("configured (from {})", status.variable),
                _ => "configured (config.toml)".to_owned(),
            },
            Some(status) => format!("not configured (set it here or in {})", status.variable),
            None => String::new(),
        };
        view! {
            <tr data-provider=name>
                <td>{label}</td>
                <td class="key-state">{description}</td>
                <td><input type="password" autocomplete="off" class="provider-key" placeholder="paste a new key" bind:value=value/></td>
                <td class="actions">
                    <button class="secondary save-provider-key" on:click=move |_| {
                        let entered = value.get_untracked().trim().to_owned();
                        value.set(String::new());
                        if !entered.is_empty() {
                            save(name, Some(entered));
                        }
                    }>"Save"</button>
                    <button class="danger" on:click=move |_| save(name, None)>"Remove"</button>
                </td>
            </tr>
        }
    };

    view! {
        <h3>"Provider keys"</h3>
        <p class="hint">"Keys are stored in config.toml and used at once. They are never shown again."</p>
        <ErrorLine error=error/>
        <Notice message=message/>
        <table id="provider-keys">
            <tbody>
                {row(Provider::Openai, "OpenAI")}
                {row(Provider::Replicate, "Replicate")}
            </tbody>
        </table>
    }
}

#[component]
fn ServerSettingsForm(admin_key: String, settings: RwSignal<Option<ServerSettings>>) -> impl IntoView {
    let admin_key = StoredValue::new(admin_key);
    let current = settings.get_untracked();
    let text = |read: fn(&ServerSettings) -> String| current.as_ref().map(read).unwrap_or_default();
    let device = RwSignal::new(text(|settings| settings.device.clone()));
    let budget = RwSignal::new(text(|settings| settings.memory_budget_gb.to_string()));
    let keep_alive = RwSignal::new(text(|settings| settings.keep_alive_seconds.to_string()));
    let bind = RwSignal::new(text(|settings| settings.bind.clone()));
    let auto_download = RwSignal::new(current.as_ref().is_some_and(|settings| settings.auto_download));
    let data_dir = text(|settings| settings.data_dir.clone());
    let error = RwSignal::new(None::<String>);
    let message = RwSignal::new(None::<String>);
    let warning = RwSignal::new(None::<String>);

    let save = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let mut body = serde_json::Map::new();
        body.insert("device".into(), device.get_untracked().trim().into());
        body.insert("bind".into(), bind.get_untracked().trim().into());
        body.insert("auto_download".into(), auto_download.get_untracked().into());
        // Numbers the server cannot parse go as text, so its message names the field.
        let number = |text: String| match text.trim().parse::<f64>() {
            Ok(value) => serde_json::json!(value),
            Err(_) => serde_json::Value::String(text),
        };
        body.insert("memory_budget_gb".into(), number(budget.get_untracked()));
        let keep = keep_alive.get_untracked();
        body.insert(
            "keep_alive_seconds".into(),
            keep.trim()
                .parse::<i64>()
                .map(serde_json::Value::from)
                .unwrap_or_else(|_| serde_json::Value::String(keep)),
        );
        let body = serde_json::Value::Object(body).to_string();
        let key = admin_key.get_value();
        spawn_local(async move {
            match admin_call::<SettingsSaved>(&key, "PUT", "/api/admin/settings", Some(&body)).await {
                Ok(saved) => {
                    error.set(None);
                    message.set(Some(if saved.restart_required.is_empty() {
                        "Saved.".to_owned()
                    } else {
                        format!("Saved; applies after a restart: {}.", saved.restart_required.join(", "))
                    }));
                    warning.set(saved.warning.clone());
                    settings.set(Some(saved.settings));
                }
                Err(failure) => {
                    message.set(None);
                    error.set(Some(format!("Saving the settings failed: {failure}")));
                }
            }
        });
    };
    let open_folder = move |_| {
        spawn_local(async move {
            if let Err(failure) = crate::desktop::open_output_folder().await {
                error.set(Some(format!("Could not open the folder: {failure}")));
            }
        })
    };

    view! {
        <h3>"Server settings"</h3>
        <form id="settings-form" class="job-form" on:submit=save>
            <div class="row">
                <label>"Device" <input id="setting-device" placeholder="auto, cpu, cuda, cuda:N or metal" bind:value=device/></label>
                <label>"Memory budget (GiB)" <input id="setting-budget" type="number" min="0" step="0.5" bind:value=budget/></label>
                <label>"Keep-alive (seconds)" <input id="setting-keep-alive" type="number" bind:value=keep_alive/></label>
            </div>
            <div class="row">
                <label>"Bind address" <input id="setting-bind" placeholder="127.0.0.1:5000" bind:value=bind/></label>
                <label class="checkbox"><input id="setting-auto-download" type="checkbox" bind:checked=auto_download/> "Download missing models when a job needs them"</label>
            </div>
            <Show when=move || !is_loopback_bind(&bind.get())>
                <p class="error" id="bind-warning">
                    "This address is not a loopback address: other machines on the network will reach this server, protected only by its API keys."
                </p>
            </Show>
            <p>"Data folder: " <code id="data-dir">{data_dir}</code> " "
                <Show when=crate::desktop::is_desktop>
                    <button type="button" class="secondary" id="open-data-folder" on:click=open_folder>"Open folder"</button>
                </Show>
            </p>
            <button id="settings-save" type="submit">"Save settings"</button>
            <p class="hint">"These settings apply after a restart of the server."</p>
            <ErrorLine error=error/>
            <Notice message=message/>
            <Show when=move || warning.get().is_some()>
                <p class="error" id="settings-warning">{move || warning.get()}</p>
            </Show>
        </form>
    }
}
