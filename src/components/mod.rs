//! Pieces of the pages: each file is one thing a researcher sees; `live` keeps them current.

pub mod charts;
mod countdown;
mod error_banner;
mod execution_row;
mod format;
mod job_filters;
mod job_header;
mod job_nav;
mod job_table;
mod jobs_list;
mod live;
mod new_job_form;
mod progress_bar;
mod region_section;
mod retry_buttons;
mod status_badge;
mod table_head;
mod toaster;
pub mod visitor;
mod warmups;

pub use error_banner::{loaded, ErrorBanner, FormOutcome, LoadError, NoticeBanner};
pub use execution_row::ExecutionRow;
pub use format::duration as format_duration;
pub use format::plural as format_plural;
pub use job_header::JobHeader;
pub use job_nav::{JobNav, JobSection};
pub use job_table::JobTable;
pub use jobs_list::JobsList;
pub use live::{use_live_stream, LiveState};
pub use new_job_form::NewJobForm;
pub use progress_bar::ProgressBar;
pub use region_section::RegionSection;
pub use retry_buttons::PlainRetryForm;
pub use status_badge::StatusBadge;
pub use table_head::TableHead;
pub use toaster::{provide_toaster, use_toaster, ToastKind, ToastRegion};
