//! State shared by every page: the key, the job list kept current by the
//! event stream, live log lines and the connection state.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{JobEvent, JobList, JobSummary};
use uuid::Uuid;

use crate::api::{self, EventStream};

/// Jobs the queue page loads at first; newer ones arrive through the events.
const JOB_PAGE_SIZE: usize = 200;

#[derive(Clone, Copy)]
pub struct Store {
    pub key: RwSignal<Option<String>>,
    /// Jobs newest first, updated by `state` and `progress` events.
    pub jobs: RwSignal<Vec<JobSummary>>,
    /// Log lines received through the event stream since the page opened, per job.
    pub live_logs: RwSignal<HashMap<Uuid, Vec<String>>>,
    /// False while the event stream is down; the page shows a banner then.
    pub connected: RwSignal<bool>,
    /// Message of the last failed job list request, shown on the queue page.
    pub jobs_error: RwSignal<Option<String>>,
    /// Milliseconds since the epoch, updated every second for elapsed times.
    pub now: RwSignal<f64>,
    /// Increased on sign-in and sign-out, so the previous event loop stops.
    session: RwSignal<u64>,
}

impl Store {
    pub fn new() -> Self {
        Self {
            key: RwSignal::new(api::stored_key()),
            jobs: RwSignal::new(Vec::new()),
            live_logs: RwSignal::new(HashMap::new()),
            connected: RwSignal::new(true),
            jobs_error: RwSignal::new(None),
            now: RwSignal::new(js_sys::Date::now()),
            session: RwSignal::new(0),
        }
    }

    pub fn sign_in(self, key: String) {
        api::store_key(Some(&key));
        self.key.set(Some(key));
        self.start();
    }

    pub fn sign_out(self) {
        api::store_key(None);
        self.session.update(|session| *session += 1);
        self.key.set(None);
        self.jobs.set(Vec::new());
    }

    /// Starts the clock and the event loop of this session.
    pub fn start(self) {
        self.session.update(|session| *session += 1);
        let session = self.session.get_untracked();
        spawn_local(async move {
            while self.session.get_untracked() == session {
                self.now.set(js_sys::Date::now());
                api::sleep(1000).await;
            }
        });
        spawn_local(self.follow_events(session));
    }

    pub fn job(self, id: Uuid) -> Option<JobSummary> {
        self.jobs.with(|jobs| jobs.iter().find(|job| job.id == id).cloned())
    }

    /// Loads the newest jobs, replacing the list.
    pub async fn refresh_jobs(self) {
        match api::get_json::<JobList>(&format!("/api/jobs?limit={JOB_PAGE_SIZE}")).await {
            Ok(list) => {
                self.jobs.set(list.jobs);
                self.jobs_error.set(None);
            }
            Err(error) => self.jobs_error.set(Some(error.to_string())),
        }
    }

    /// Reads `/api/events` until the session ends, reconnecting after a second
    /// whenever the stream breaks. The job list is reloaded on each connect,
    /// because events sent while disconnected are lost.
    async fn follow_events(self, session: u64) {
        while self.session.get_untracked() == session {
            match EventStream::open("/api/events").await {
                Ok(mut stream) => {
                    self.connected.set(true);
                    self.refresh_jobs().await;
                    while let Some(event) = stream.next().await {
                        if self.session.get_untracked() != session {
                            stream.close();
                            return;
                        }
                        match event.name.as_str() {
                            "lagged" => self.refresh_jobs().await,
                            _ => match serde_json::from_str::<JobEvent>(&event.data) {
                                Ok(job_event) => self.apply(job_event),
                                Err(error) => web_sys::console::warn_1(
                                    &format!("Ignored an event that did not parse: {error}").into(),
                                ),
                            },
                        }
                    }
                }
                Err(error) if error.status == 403 => {
                    self.jobs_error.set(Some(error.to_string()));
                }
                Err(_) => {}
            }
            if self.session.get_untracked() != session {
                return;
            }
            self.connected.set(false);
            api::sleep(1000).await;
        }
    }

    fn apply(self, event: JobEvent) {
        match event {
            JobEvent::State { job } => {
                self.jobs
                    .update(|jobs| match jobs.iter_mut().find(|known| known.id == job.id) {
                        Some(known) => *known = *job,
                        None => {
                            let at = jobs
                                .iter()
                                .position(|known| known.created_at < job.created_at)
                                .unwrap_or(jobs.len());
                            jobs.insert(at, *job);
                        }
                    })
            }
            JobEvent::Progress { id, progress } => self.jobs.update(|jobs| {
                if let Some(job) = jobs.iter_mut().find(|job| job.id == id) {
                    job.progress = progress;
                }
            }),
            JobEvent::Log { id, line } => self.live_logs.update(|logs| logs.entry(id).or_default().push(line)),
        }
    }
}

/// Milliseconds since the epoch of an RFC 3339 timestamp; `None` if it does not parse.
pub fn timestamp_ms(text: &str) -> Option<f64> {
    let value = js_sys::Date::parse(text);
    (!value.is_nan()).then_some(value)
}

/// Formats a duration as `12.3 s`, `4 min 05 s` or `1 h 02 min`.
pub fn format_duration(milliseconds: f64) -> String {
    let seconds = (milliseconds / 1000.0).max(0.0);
    if seconds < 60.0 {
        format!("{seconds:.1} s")
    } else if seconds < 3600.0 {
        format!("{} min {:02} s", (seconds / 60.0) as u64, seconds as u64 % 60)
    } else {
        format!(
            "{} h {:02} min",
            (seconds / 3600.0) as u64,
            (seconds as u64 % 3600) / 60
        )
    }
}

/// Time a job has run, or has waited if it has not started; `None` before it has a start time.
pub fn elapsed_ms(job: &JobSummary, now: f64) -> Option<f64> {
    let start = timestamp_ms(job.started_at.as_deref().unwrap_or(&job.created_at))?;
    let end = job.finished_at.as_deref().and_then(timestamp_ms).unwrap_or(now);
    Some(end - start)
}

/// Storage name of the request body the UI sent for a job, used by "run again".
pub fn request_storage_name(id: Uuid) -> String {
    format!("ddiffusion.request.{id}")
}
