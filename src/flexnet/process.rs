//! The process runner: runs `lmutil` without a shell, with a timeout and a bound on what it
//! may write, and finds it when no path is given.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// What a program wrote, and how it ended.
#[derive(Debug, Clone)]
pub struct Output {
    /// Its exit code (None: killed by a signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `program` with `args` (no shell: nothing in them is interpreted), waits at most
/// `timeout`, and refuses output longer than `max_output` bytes rather than cut it.
/// `about` names what is asked (the license server) in errors.
pub fn run(
    program: &Path,
    args: &[String],
    timeout: Duration,
    max_output: usize,
    about: &str,
) -> Result<Output> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Transport {
            url: about.to_owned(),
            cause: format!("{} could not be started: {e}", program.display()),
        })?;
    let out = child.stdout.take().map(|s| reader(s, max_output));
    let err = child.stderr.take().map(|s| reader(s, max_output));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::Timeout {
                    url: about.to_owned(),
                    seconds: timeout.as_secs_f64(),
                    cause: format!("{} was stopped", program.display()),
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => {
                return Err(Error::Transport {
                    url: about.to_owned(),
                    cause: format!("waiting for {}: {e}", program.display()),
                })
            }
        }
    };
    let (stdout, out_cut) = out.map(joined).unwrap_or_default();
    let (stderr, err_cut) = err.map(joined).unwrap_or_default();
    if out_cut || err_cut {
        return Err(Error::UnreadableReply {
            url: about.to_owned(),
            status: 0,
            problem: format!(
                "{} wrote more than {max_output} bytes (raise max_output)",
                program.display()
            ),
            body_start: crate::error::body_start(stdout.as_bytes(), 200),
        });
    }
    Ok(Output {
        code: status.code(),
        stdout,
        stderr,
    })
}

type Reading = std::thread::JoinHandle<(String, bool)>;

/// Reads a pipe to its end on a thread of its own (so that a full pipe never blocks the
/// program), keeping at most `max` bytes: the text and whether more came.
fn reader<R: Read + Send + 'static>(mut pipe: R, max: usize) -> Reading {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        let mut cut = false;
        loop {
            match pipe.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let room = max.saturating_sub(kept.len());
                    cut |= n > room;
                    kept.extend_from_slice(&chunk[..n.min(room)]);
                }
            }
        }
        (String::from_utf8_lossy(&kept).into_owned(), cut)
    })
}

fn joined(handle: Reading) -> (String, bool) {
    handle.join().unwrap_or_default()
}

/// Where `lmutil` is: the path given, else the first on `PATH`, else (on Windows) the
/// ArcGIS License Manager's install folders.
pub fn find_lmutil(given: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = given {
        return if path.is_file() {
            Ok(path.to_owned())
        } else {
            Err(Error::invalid(format!(
                "lmutil was not found at {}",
                path.display()
            )))
        };
    }
    let windows = cfg!(windows);
    lmutil_places(std::env::var_os("PATH"), |v| std::env::var_os(v), windows)
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| {
            Error::invalid(
                "lmutil was not found on PATH or in the ArcGIS License Manager's folders; \
                 give its path (lmutil=...)",
            )
        })
}

/// Where `lmutil` is looked for, in order: each folder on `path`, then on Windows the
/// ArcGIS License Manager's `bin` under each Program Files folder `var` names. Apart from
/// the system, so that the Windows order is tested everywhere.
fn lmutil_places(
    path: Option<std::ffi::OsString>,
    var: impl Fn(&str) -> Option<std::ffi::OsString>,
    windows: bool,
) -> Vec<PathBuf> {
    let names: &[&str] = if windows {
        &["lmutil.exe", "lmutil"]
    } else {
        &["lmutil"]
    };
    let mut folders: Vec<PathBuf> = path
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if windows {
        for variable in ["ProgramFiles(x86)", "ProgramFiles"] {
            if let Some(root) = var(variable) {
                folders.push(
                    PathBuf::from(root)
                        .join("ArcGIS")
                        .join("LicenseManager")
                        .join("bin"),
                );
            }
        }
    }
    folders
        .iter()
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .collect()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn lmutil_is_looked_for_on_path_then_in_the_license_managers_folders_on_windows() {
        let path = Some(std::ffi::OsString::from("/opt/a:/opt/b"));
        let var = |v: &str| match v {
            "ProgramFiles(x86)" => Some("/pf86".into()),
            "ProgramFiles" => Some("/pf".into()),
            _ => None,
        };
        let shown = |places: Vec<PathBuf>| -> Vec<String> {
            places.iter().map(|p| p.display().to_string()).collect()
        };
        assert_eq!(
            shown(lmutil_places(path.clone(), var, false)),
            ["/opt/a/lmutil", "/opt/b/lmutil"]
        );
        assert_eq!(
            shown(lmutil_places(path, var, true)),
            [
                "/opt/a/lmutil.exe",
                "/opt/a/lmutil",
                "/opt/b/lmutil.exe",
                "/opt/b/lmutil",
                "/pf86/ArcGIS/LicenseManager/bin/lmutil.exe",
                "/pf86/ArcGIS/LicenseManager/bin/lmutil",
                "/pf/ArcGIS/LicenseManager/bin/lmutil.exe",
                "/pf/ArcGIS/LicenseManager/bin/lmutil",
            ]
        );
        // Nothing on PATH and no Program Files: nowhere to look.
        assert!(lmutil_places(None, |_| None, true).is_empty());
    }

    #[test]
    fn runs_without_a_shell_with_a_timeout_and_a_bound() {
        let sh = Path::new("/bin/sh");
        let args = |s: &str| vec!["-c".to_owned(), s.to_owned()];
        let out = run(
            sh,
            &args("echo '$HOME;' \"$0\"; exit 3"),
            Duration::from_secs(5),
            1000,
            "t",
        )
        .unwrap();
        assert_eq!(out.code, Some(3));
        let slow = run(sh, &args("sleep 5"), Duration::from_millis(100), 1000, "t");
        assert!(matches!(slow, Err(Error::Timeout { .. })));
        let big = run(
            sh,
            &args("yes | head -c 100000"),
            Duration::from_secs(5),
            1000,
            "t",
        );
        assert!(matches!(big, Err(Error::UnreadableReply { .. })));
        assert!(find_lmutil(Some(Path::new("/no/such/lmutil"))).is_err());
    }
}
