//! A small Chrome DevTools Protocol client: headless Chromium started here, one page, and the
//! few commands the journeys need (navigate, evaluate, keys, screenshots, the WebAuthn
//! virtual authenticator). Built on a WebSocket rather than a CDP crate, so the tests
//! compile quickly and nothing downloads a browser.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

/// How long one step (a command, a page load, an element to appear) may take on a slow,
/// busy machine.
const STEP: Duration = Duration::from_secs(30);

/// The Chromium to drive: `TESSERA_CHROMIUM`, else the first of the usual names on `PATH`.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("TESSERA_CHROMIUM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
    .find(|candidate| candidate.is_file())
}

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;

pub struct Browser {
    child: Child,
    outgoing: mpsc::UnboundedSender<Message>,
    pending: Pending,
    next_id: AtomicU64,
    _profile: crate::server::TempDir,
}

/// One tab, attached with its own session.
pub struct Tab {
    browser: Arc<Browser>,
    session: String,
}

impl Browser {
    pub async fn launch(chromium: &Path) -> Arc<Browser> {
        let profile = crate::server::TempDir::new("chromium");
        let mut child = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--remote-debugging-port=0",
                "--remote-allow-origins=*",
            ])
            .arg(format!("--user-data-dir={}", profile.0.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromium");
        let stderr = child.stderr.take().expect("chromium's stderr");
        let mut lines = BufReader::new(stderr).lines();
        let ws_url = tokio::time::timeout(STEP, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    return url.trim().to_string();
                }
            }
            panic!("chromium exited before it listened");
        })
        .await
        .expect("chromium listens within the step time");
        // Keep draining stderr, or a chatty Chromium blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

        let (socket, _) = tokio_tungstenite::connect_async(ws_url.as_str())
            .await
            .expect("connect to chromium");
        let (mut sink, mut stream) = socket.split();
        let (outgoing, mut queue) = mpsc::unbounded_channel::<Message>();
        tokio::spawn(async move {
            while let Some(message) = queue.recv().await {
                if sink.send(message).await.is_err() {
                    break;
                }
            }
        });
        let pending: Pending = Arc::default();
        let replies = pending.clone();
        tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                let Ok(value) = serde_json::from_str::<Value>(text.as_str()) else {
                    continue;
                };
                // Events carry no id; the journeys poll the page instead of waiting on them.
                if let Some(id) = value.get("id").and_then(Value::as_u64)
                    && let Some(tx) = replies.lock().await.remove(&id)
                {
                    let _ = tx.send(value);
                }
            }
        });
        Arc::new(Browser {
            child,
            outgoing,
            pending,
            next_id: AtomicU64::new(1),
            _profile: profile,
        })
    }

    async fn call(&self, session: Option<&str>, method: &str, params: Value) -> Value {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            message["sessionId"] = json!(s);
        }
        let (tx, rx) = oneshot::channel();
        self.pending.lock().await.insert(id, tx);
        self.outgoing
            .send(Message::Text(message.to_string().into()))
            .expect("the connection to chromium is open");
        let reply = tokio::time::timeout(STEP, rx)
            .await
            .unwrap_or_else(|_| panic!("{method}: no answer from chromium"))
            .expect("chromium answered");
        if let Some(error) = reply.get("error") {
            panic!("{method} failed: {error}");
        }
        reply["result"].clone()
    }

    /// A new tab of `width`×`height` CSS pixels (`mobile`: a phone's viewport and touch).
    pub async fn tab(self: &Arc<Self>, width: u32, height: u32, mobile: bool) -> Tab {
        let target = self
            .call(None, "Target.createTarget", json!({"url": "about:blank"}))
            .await;
        let attached = self
            .call(
                None,
                "Target.attachToTarget",
                json!({"targetId": target["targetId"], "flatten": true}),
            )
            .await;
        let tab = Tab {
            browser: self.clone(),
            session: attached["sessionId"].as_str().unwrap().to_string(),
        };
        tab.call("Page.enable", json!({})).await;
        tab.call("Runtime.enable", json!({})).await;
        tab.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        )
        .await;
        tab
    }

    pub async fn close(mut self: Arc<Self>) {
        let _ = self.call(None, "Browser.close", json!({})).await;
        if let Some(browser) = Arc::get_mut(&mut self) {
            let _ = tokio::time::timeout(Duration::from_secs(5), browser.child.wait()).await;
        }
    }
}

impl Tab {
    pub async fn call(&self, method: &str, params: Value) -> Value {
        self.browser.call(Some(&self.session), method, params).await
    }

    pub async fn goto(&self, url: &str) {
        self.call("Page.navigate", json!({"url": url})).await;
        self.wait_until(&format!("location.href === {}", json!(url)))
            .await;
    }

    /// The value of a JavaScript expression on the page, or `None` while it cannot run
    /// (say, the page is being replaced).
    pub async fn try_eval(&self, expression: &str) -> Option<Value> {
        let result = self
            .browser
            .call_lenient(
                &self.session,
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            )
            .await?;
        if result.get("exceptionDetails").is_some() {
            return None;
        }
        Some(result["result"]["value"].clone())
    }

    pub async fn eval(&self, expression: &str) -> Value {
        self.try_eval(expression)
            .await
            .unwrap_or_else(|| panic!("evaluating `{expression}` failed"))
    }

    /// Waits until `predicate` is true on a fully loaded page.
    pub async fn wait_until(&self, predicate: &str) {
        let check = format!("document.readyState === 'complete' && !!({predicate})");
        let deadline = tokio::time::Instant::now() + STEP;
        loop {
            if self.try_eval(&check).await == Some(Value::Bool(true)) {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                let url = self.try_eval("location.href").await;
                let text = self
                    .try_eval("document.body && document.body.innerText")
                    .await;
                panic!("timed out waiting for `{predicate}` on {url:?}:\n{text:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for a page whose path is `path` (query ignored).
    pub async fn wait_for_path(&self, path: &str) {
        self.wait_until(&format!("location.pathname === {}", json!(path)))
            .await;
    }

    pub async fn path(&self) -> String {
        self.eval("location.pathname + location.search")
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn text(&self) -> String {
        self.eval("document.body.innerText")
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    async fn key(&self, key: &str, code: &str, key_code: u32, text: Option<&str>, modifiers: u32) {
        let mut down = json!({
            "type": if text.is_some() { "keyDown" } else { "rawKeyDown" },
            "key": key, "code": code,
            "windowsVirtualKeyCode": key_code, "nativeVirtualKeyCode": key_code,
            "modifiers": modifiers,
        });
        if let Some(t) = text {
            down["text"] = json!(t);
            down["unmodifiedText"] = json!(t);
        }
        self.call("Input.dispatchKeyEvent", down).await;
        self.call(
            "Input.dispatchKeyEvent",
            json!({"type": "keyUp", "key": key, "code": code,
                   "windowsVirtualKeyCode": key_code, "nativeVirtualKeyCode": key_code,
                   "modifiers": modifiers}),
        )
        .await;
    }

    pub async fn tab_key(&self) {
        self.key("Tab", "Tab", 9, None, 0).await;
    }

    pub async fn enter(&self) {
        self.key("Enter", "Enter", 13, Some("\r"), 0).await;
    }

    pub async fn arrow_down(&self) {
        self.key("ArrowDown", "ArrowDown", 40, None, 0).await;
    }

    pub async fn arrow_up(&self) {
        self.key("ArrowUp", "ArrowUp", 38, None, 0).await;
    }

    /// Types into the focused field, as a keyboard would.
    pub async fn type_text(&self, text: &str) {
        self.call("Input.insertText", json!({"text": text})).await;
    }

    /// A PNG of the whole page.
    pub async fn screenshot(&self, path: &Path) {
        let metrics = self.call("Page.getLayoutMetrics", json!({})).await;
        let size = &metrics["cssContentSize"];
        let shot = self
            .call(
                "Page.captureScreenshot",
                json!({"format": "png", "captureBeyondViewport": true,
                       "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}}),
            )
            .await;
        let png = data_encoding::BASE64
            .decode(shot["data"].as_str().unwrap().as_bytes())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }

    /// A virtual FIDO2 security key with a PIN already entered (user verification) that
    /// can keep discoverable credentials, answering without a touch.
    pub async fn add_security_key(&self) -> String {
        self.call("WebAuthn.enable", json!({"enableUI": false}))
            .await;
        let added = self
            .call(
                "WebAuthn.addVirtualAuthenticator",
                json!({"options": {
                    "protocol": "ctap2", "ctap2Version": "ctap2_1", "transport": "usb",
                    "hasResidentKey": true, "hasUserVerification": true, "isUserVerified": true,
                    "automaticPresenceSimulation": true,
                }}),
            )
            .await;
        added["authenticatorId"].as_str().unwrap().to_string()
    }

    pub async fn credentials(&self, authenticator: &str) -> Vec<Value> {
        let result = self
            .call(
                "WebAuthn.getCredentials",
                json!({"authenticatorId": authenticator}),
            )
            .await;
        result["credentials"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Tab {
    /// The browser's targets of type `kind` (`page`, `service_worker`, …).
    pub async fn targets(&self, kind: &str) -> Vec<Value> {
        let found = self
            .browser
            .call(None, "Target.getTargets", json!({}))
            .await;
        found["targetInfos"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["type"] == kind)
            .cloned()
            .collect()
    }

    /// Another target of the browser (a service worker, say), attached with its own
    /// session: `eval` runs there.
    pub async fn attach(&self, target_id: &str) -> Tab {
        let attached = self
            .browser
            .call(
                None,
                "Target.attachToTarget",
                json!({"targetId": target_id, "flatten": true}),
            )
            .await;
        Tab {
            browser: self.browser.clone(),
            session: attached["sessionId"].as_str().unwrap().to_string(),
        }
    }
}

impl Browser {
    /// A call whose failure is an answer (`None`), not a failed test.
    async fn call_lenient(&self, session: &str, method: &str, params: Value) -> Option<Value> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let message = json!({"id": id, "method": method, "params": params, "sessionId": session});
        let (tx, rx) = oneshot::channel();
        self.pending.lock().await.insert(id, tx);
        self.outgoing
            .send(Message::Text(message.to_string().into()))
            .ok()?;
        let reply = tokio::time::timeout(STEP, rx).await.ok()?.ok()?;
        if reply.get("error").is_some() {
            return None;
        }
        Some(reply["result"].clone())
    }
}
