//! The server's files seen from here: whether they are on this machine (directly, or through a
//! container's own root), its pid, the datadir with the device under it, and its error log handed
//! to the logs collector.

use super::collector::Collector;
use super::settings::Target;
use super::url::Endpoint;
use super::{derive, locate, optfile};
use crate::collect::blockdev;
use crate::snapshot::{Datadir, UnderlyingDevice};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

impl Collector {
    /// Finds the error log from `log_error` and `datadir` and, when the server runs here and
    /// the file exists, remembers it and sends it to the logs collector.
    pub(super) fn hand_over_error_log(&mut self, target: &Target, variables: &[(String, String)]) {
        let var = |k: &str| {
            variables
                .iter()
                .find(|(n, _)| n == k)
                .map_or("", |(_, v)| v.as_str())
        };
        let Some(root) = self.files_root(target, var("hostname"), var("pid_file"), var("datadir"))
        else {
            return;
        };
        let Some(path) = derive::error_log_path(var("log_error"), var("datadir")) else {
            return;
        };
        let readable = optfile::under(&root, &path);
        if !readable.is_file() {
            return;
        }
        if let Some(tx) = &self.error_log_tx {
            let _ = tx.send(readable.clone());
        }
        self.error_log = Some(readable);
    }

    /// Whether the server's files are here, its pid, and its datadir with the disk under it.
    pub(super) fn files(
        &self,
        target: &Target,
        vars: &BTreeMap<&str, &str>,
        notes: &mut Vec<String>,
    ) -> (bool, Option<u32>, Option<Datadir>) {
        let var = |k: &str| vars.get(k).copied().unwrap_or("");
        let root = self.files_root(target, var("hostname"), var("pid_file"), var("datadir"));
        let server_pid = match &self.view {
            Some(v) => Some(v.located.pid),
            None => root.as_ref().and(server_pid(var("pid_file"))),
        };
        let mut datadir = datadir(var("datadir"), root.as_deref(), notes);
        if let (Some(d), Some(v)) = (datadir.as_mut(), &self.view)
            && d.device.is_none()
        {
            overlay_device(d, v.located.pid, notes);
        }
        (root.is_some(), server_pid, datadir)
    }

    /// Where the server's files can be read from here: its own root when `mysql_server` found
    /// its process (`/proc/<pid>/root` for a container), `/` when it is otherwise proven to run
    /// on this machine ([`is_local`]), `None` when its files are not here.
    fn files_root(
        &self,
        target: &Target,
        hostname: &str,
        pid_file: &str,
        datadir: &str,
    ) -> Option<PathBuf> {
        if let Some(v) = &self.view {
            return Some(v.located.root().to_path_buf());
        }
        is_local(
            target,
            hostname,
            &self.host.hostname,
            server_pid(pid_file),
            datadir,
        )
        .then(|| PathBuf::from("/"))
    }
}

/// The server's pid from its `pid_file`, when that file is on this machine and names a live
/// `mysqld` or `mariadbd`.
fn server_pid(pid_file: &str) -> Option<u32> {
    if pid_file.is_empty() {
        return None;
    }
    let pid: u32 = std::fs::read_to_string(pid_file)
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    let comm = comm.trim();
    (comm.contains("mysqld") || comm.contains("mariadbd")).then_some(pid)
}

/// Whether the server's files are this machine's files. Proven by its pid file naming a live
/// server process here; otherwise by the server's host name being this machine's and the
/// datadir existing here. A server in a container reports the container's host name.
fn is_local(
    target: &Target,
    server_hostname: &str,
    our_hostname: &str,
    server_pid: Option<u32>,
    datadir: &str,
) -> bool {
    let reachable_locally = match &target.endpoint {
        Endpoint::Socket(_) => true,
        Endpoint::Tcp { host, .. } => {
            host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
    };
    reachable_locally
        && (server_pid.is_some()
            || (server_hostname == our_hostname
                && !datadir.is_empty()
                && Path::new(datadir).is_dir()))
}

/// A datadir in a container's own layer (no volume) is on an overlay filesystem, which has no
/// device: the device is the one under the overlay's upper directory on the host, where its
/// writes land.
fn overlay_device(d: &mut Datadir, pid: u32, notes: &mut Vec<String>) {
    let Ok(mountinfo) = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")) else {
        return;
    };
    let Some(upper) = locate::overlay_upper_dir(&mountinfo, Path::new(&d.path)) else {
        return;
    };
    // The upper directory may not exist yet below the datadir: its nearest existing parent is on
    // the same filesystem.
    let existing = upper
        .ancestors()
        .find(|p| p.exists())
        .map(Path::to_path_buf);
    if let Some(dev) = existing.and_then(|p| blockdev::of_path(&p).ok()) {
        notes.push(format!(
            "the datadir is in the container's own layer (overlay, no volume): its writes land in \
             {} on {}",
            upper.display(),
            dev.name
        ));
        // The note about the overlay having no device is now answered.
        notes.retain(|n| !n.starts_with("the datadir's disk is not determined"));
        place(d, dev);
    }
}

/// Puts the datadir on `dev`, with the devices under it.
fn place(d: &mut Datadir, dev: blockdev::BlockDevice) {
    d.device = Some(dev.name);
    d.rotational = dev.rotational;
    d.underlying = dev
        .underlying
        .into_iter()
        .map(|(name, rotational)| UnderlyingDevice { name, rotational })
        .collect();
}

/// The datadir and its disk, read under `root` (the server's own root for a container); a note
/// saying why not when the files are not here.
fn datadir(path: &str, root: Option<&Path>, notes: &mut Vec<String>) -> Option<Datadir> {
    if path.is_empty() {
        return None;
    }
    let through = root.filter(|r| *r != Path::new("/"));
    let mut d = Datadir {
        path: path.to_owned(),
        local: root.is_some(),
        read_through: through.map(|r| r.display().to_string()),
        device: None,
        rotational: None,
        underlying: Vec::new(),
    };
    let Some(root) = root else {
        notes.push(format!(
            "the server's files are not on this machine (another host, or a container doctor \
             could not tie to it): its datadir {path} is not here, so its disk is not determined; \
             run doctor where the files are"
        ));
        return Some(d);
    };
    match blockdev::of_path(&optfile::under(root, Path::new(path))) {
        Ok(dev) => place(&mut d, dev),
        Err(e) => notes.push(format!("the datadir's disk is not determined: {e}")),
    }
    Some(d)
}
