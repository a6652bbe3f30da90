//! Named actions. Keys map to these (keymap.toml uses the snake_case names), the help overlay
//! and the command bar describe them, and `App::update` carries them out.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    // global
    Quit,
    Help,
    Palette,
    Suspend,
    NextTab,
    PrevTab,
    TabOverview,
    TabChat,
    TabQueues,
    TabLogs,
    TabServices,
    TabFiles,
    TabDatabase,
    TabDocs,
    TabTools,
    TabTimeline,
    FocusNext,
    FocusPrev,
    Zoom,
    ToggleMouse,
    CycleTheme,
    // lists and scrolling
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Left,
    Right,
    Filter,
    Select,
    Back,
    Copy,
    // chat
    Compose,
    // queues
    QueueSend,
    QueueNew,
    QueueReceive,
    QueueDrain,
    Refresh,
    // services
    ServiceRestart,
    // files
    FileUpload,
    FileDownload,
    FileDelete,
    FileMove,
    // database
    SqlEdit,
    SqlRun,
    SqlHistoryPrev,
    SqlHistoryNext,
    SqlExport,
    // documents
    DocEdit,
    // toolkits
    ToolInvoke,
    // logs
    Search,
    SearchNext,
    SearchPrev,
    TogglePause,
    ToggleTimestamps,
    ToggleWrap,
    ClearLogs,
    // timeline
    TimelinePlay,
    TimelineSpeed,
    TimelineJump,
}

impl Action {
    /// The snake_case name, as written in keymap.toml.
    pub fn name(self) -> &'static str {
        use Action::*;
        match self {
            Quit => "quit",
            Help => "help",
            Palette => "palette",
            Suspend => "suspend",
            NextTab => "next_tab",
            PrevTab => "prev_tab",
            TabOverview => "tab_overview",
            TabChat => "tab_chat",
            TabQueues => "tab_queues",
            TabLogs => "tab_logs",
            TabServices => "tab_services",
            TabFiles => "tab_files",
            TabDatabase => "tab_database",
            TabDocs => "tab_docs",
            TabTools => "tab_tools",
            TabTimeline => "tab_timeline",
            FocusNext => "focus_next",
            FocusPrev => "focus_prev",
            Zoom => "zoom",
            ToggleMouse => "toggle_mouse",
            CycleTheme => "cycle_theme",
            Up => "up",
            Down => "down",
            PageUp => "page_up",
            PageDown => "page_down",
            Top => "top",
            Bottom => "bottom",
            Left => "left",
            Right => "right",
            Filter => "filter",
            Select => "select",
            Back => "back",
            Copy => "copy",
            Compose => "compose",
            QueueSend => "queue_send",
            QueueNew => "queue_new",
            QueueReceive => "queue_receive",
            QueueDrain => "queue_drain",
            Refresh => "refresh",
            ServiceRestart => "service_restart",
            FileUpload => "file_upload",
            FileDownload => "file_download",
            FileDelete => "file_delete",
            FileMove => "file_move",
            SqlEdit => "sql_edit",
            SqlRun => "sql_run",
            SqlHistoryPrev => "sql_history_prev",
            SqlHistoryNext => "sql_history_next",
            SqlExport => "sql_export",
            DocEdit => "doc_edit",
            ToolInvoke => "tool_invoke",
            Search => "search",
            SearchNext => "search_next",
            SearchPrev => "search_prev",
            TogglePause => "toggle_pause",
            ToggleTimestamps => "toggle_timestamps",
            ToggleWrap => "toggle_wrap",
            ClearLogs => "clear_logs",
            TimelinePlay => "timeline_play",
            TimelineSpeed => "timeline_speed",
            TimelineJump => "timeline_jump",
        }
    }

    /// A short description for the help overlay.
    pub fn describe(self) -> &'static str {
        use Action::*;
        match self {
            Quit => "quit roomdeck",
            Help => "show this help",
            Palette => "command palette",
            Suspend => "suspend to the shell (fg to resume)",
            NextTab => "next tab",
            PrevTab => "previous tab",
            TabOverview => "overview tab: the room at a glance",
            TabChat => "chat tab",
            TabQueues => "queues tab",
            TabLogs => "logs tab",
            TabServices => "services tab",
            TabFiles => "files tab",
            TabDatabase => "database tab",
            TabDocs => "documents tab",
            TabTools => "toolkits tab",
            TabTimeline => "timeline tab: recorded sessions",
            FocusNext => "focus next pane",
            FocusPrev => "focus previous pane",
            Zoom => "zoom the focused pane",
            ToggleMouse => "mouse on/off",
            CycleTheme => "next theme",
            Up => "up",
            Down => "down",
            PageUp => "page up",
            PageDown => "page down",
            Top => "go to top",
            Bottom => "go to bottom (logs: follow)",
            Left => "scroll left",
            Right => "scroll right",
            Filter => "filter the list",
            Select => "select / open",
            Back => "back / clear filter",
            Copy => "copy to clipboard",
            Compose => "write a message",
            QueueSend => "send JSON to the queue",
            QueueNew => "send to a new queue",
            QueueReceive => "receive one message",
            QueueDrain => "drain the queue",
            Refresh => "refresh",
            ServiceRestart => "restart the service (asks first)",
            FileUpload => "upload a local file into the folder",
            FileDownload => "download the file to a local path",
            FileDelete => "delete the file or folder (asks first)",
            FileMove => "move or rename (asks first)",
            SqlEdit => "write SQL in the editor",
            SqlRun => "run the SQL in the editor (drops and deletes ask first)",
            SqlHistoryPrev => "older SQL from the history",
            SqlHistoryNext => "newer SQL from the history",
            SqlExport => "export the result to CSV or JSON",
            DocEdit => "edit the document as JSON",
            ToolInvoke => "call the tool with JSON arguments",
            Search => "search (highlight)",
            SearchNext => "next match",
            SearchPrev => "previous match",
            TogglePause => "pause / resume",
            ToggleTimestamps => "timestamps on/off",
            ToggleWrap => "wrap on/off",
            ClearLogs => "clear the log buffer",
            TimelinePlay => "play / pause the session from the selected event",
            TimelineSpeed => "playback speed 1x / 10x",
            TimelineJump => "jump to a time (12.5s, 1m3s)",
        }
    }

    /// A one-word label for the command bar.
    pub fn short(self) -> &'static str {
        use Action::*;
        match self {
            Quit => "quit",
            Help => "help",
            Palette => "cmd",
            Compose => "write",
            Filter => "filter",
            Search => "search",
            SearchNext => "next",
            TogglePause => "pause",
            ToggleTimestamps => "time",
            ToggleWrap => "wrap",
            Copy => "copy",
            QueueSend => "send",
            QueueNew => "new",
            QueueReceive => "receive",
            QueueDrain => "drain",
            Zoom => "zoom",
            FocusNext => "focus",
            Bottom => "follow",
            ClearLogs => "clear",
            Refresh => "refresh",
            ServiceRestart => "restart",
            Select => "open",
            FileUpload => "upload",
            FileDownload => "download",
            FileDelete => "delete",
            FileMove => "move",
            SqlEdit => "write",
            SqlRun => "run",
            SqlHistoryPrev => "history",
            SqlExport => "export",
            DocEdit => "edit",
            ToolInvoke => "call",
            TimelinePlay => "play",
            TimelineSpeed => "speed",
            TimelineJump => "jump",
            other => other.name(),
        }
    }

    /// True for actions that change the room; refused in read-only mode.
    pub fn mutates_room(self) -> bool {
        matches!(
            self,
            Action::Compose
                | Action::QueueSend
                | Action::QueueNew
                | Action::QueueReceive
                | Action::QueueDrain
                | Action::ServiceRestart
                | Action::FileUpload
                | Action::FileDelete
                | Action::FileMove
                | Action::DocEdit
                | Action::ToolInvoke
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde() {
        for a in [
            Action::Quit,
            Action::QueueDrain,
            Action::ToggleTimestamps,
            Action::TabLogs,
        ] {
            let parsed: Action = serde_json::from_value(serde_json::json!(a.name())).unwrap();
            assert_eq!(parsed, a);
        }
    }
}
