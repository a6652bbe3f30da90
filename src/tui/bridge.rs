//! Placeholder until the room client lands: reports that there is no client.

use tokio::sync::mpsc;

use super::net::{NetCommand, NetEvent};
use super::{Target, TuiOptions};

pub struct RoomTarget {
    location: String,
}

impl RoomTarget {
    pub async fn prepare(opts: &TuiOptions) -> Result<RoomTarget, String> {
        let location = match &opts.target {
            Target::Local { .. } => "local".to_string(),
            Target::Remote { url, .. } => url.clone(),
        };
        Ok(RoomTarget { location })
    }
    pub fn location(&self) -> String {
        self.location.clone()
    }
    pub fn connect(
        &self,
    ) -> (
        mpsc::UnboundedSender<NetCommand>,
        mpsc::UnboundedReceiver<NetEvent>,
    ) {
        let (tx, _rx) = mpsc::unbounded_channel();
        let (etx, erx) = mpsc::unbounded_channel();
        let _ = etx.send(NetEvent::Fatal("this build has no room client".into()));
        (tx, erx)
    }
    pub async fn shutdown(&self) {}
}
