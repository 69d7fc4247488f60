//! The settings page: remote server profiles, and the client settings that
//! the plug-ins and scripts read from their environment.

use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::SystemStatus;
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
                api::copy_to_clipboard(&value);
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
        spawn_local(async move {
            match api::call("PUT", &format!("/api/profiles/{profile}"), Some(&body.to_string())).await {
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
        spawn_local(async move {
            match api::call("DELETE", &format!("/api/profiles/{profile}"), None).await {
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
