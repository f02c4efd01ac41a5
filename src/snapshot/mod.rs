//! The snapshot: what `doctor snapshot` writes, what fixtures hold and what `doctor analyze` reads.
//!
//! This is the contract between the collectors and everything after them. Field names here are
//! the names rules use and users see in `--json`, so renaming one is a breaking change that needs
//! a new [`SCHEMA_VERSION`]. The format is documented in `docs/snapshot.md`.

mod bundle;
mod containers;
mod counter;
mod disk;
mod imported;
mod load;
mod load_test;
mod logs;
mod mysql;
mod mysql_server;
mod mysql_trx;
mod net;
mod open_files;
mod section;
mod series;
mod system;
mod top;

pub use bundle::{BUNDLE_VERSION, Bundle, NamedSnapshot, names as host_names};
pub use containers::{
    Container, ContainerCgroup, ContainerListener, ContainerNet, Containers, Engine, StatsSource,
};
pub use counter::{Counter, pct, rate, round2};
pub use disk::{Disk, Disks};
pub use imported::{Imported, ImportedInput, ImportedOutput, LineRange};
pub use load::{LoadError, Loaded, any_from_json, from_json, load, load_any};
pub use load_test::{LoadTarget, LoadTest};
pub use logs::{CategoryTotal, LogSource, Logs, PatternMatch, PatternTotal, SourceKind};
pub use mysql::{
    Connection as MysqlConnection, Datadir, Digest, FileIo, FileWaits, Flavor, IdleHistogram,
    Mysql, PerformanceSchema, Processlist, Reading, Replica, RunningStatement, Storage, SynchWait,
    UnderlyingDevice, Variable,
};
pub use mysql_server::{
    ClientConnections, Login, LoginAttempt, MysqlServer, ServerConnections, ServerOption,
    ServerProcess,
};
pub use mysql_trx::{Transaction, Transactions};
pub use net::{
    Conntrack, Listener, Listeners, LocalPorts, PortDestination, ProcessRef, SysctlValue, Tcp,
};
pub use open_files::{OpenFiles, OpenFilesProcess};
pub use section::{Provenance, Section, Status, round_ms};
pub use series::{Series, SeriesBound, WatchedCommand};
pub use system::{
    Cpu, Memory, Pressure, PressureLine, PressureResource, ProcessCpu, Processes, ThreadCpu,
};
pub use top::{CollectorState, HostFacts, Overhead, SCHEMA_VERSION, Snapshot, Window, json_schema};
