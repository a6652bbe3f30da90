//! The console's rooms on a server's REST API (`roomdeck --api-url URL --token TOKEN`): the
//! `:rooms` view lists, creates and deletes through the routes `roomdeck rooms` uses, and a
//! switch joins with the token the server's `connect` route mints for the other room.

use std::future::Future;
use std::pin::Pin;

use serde_json::json;

use super::http::{Api, encode};
use super::local::room_info_json;
use crate::tui::{LocalRooms, OpenedRoom, RoomGuard, RoomInfo};

pub struct ApiRooms {
    pub api: Api,
}

impl LocalRooms for ApiRooms {
    fn open<'a>(
        &'a self,
        room: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<OpenedRoom, String>> + Send + 'a>> {
        Box::pin(async move {
            let path = format!("/rooms/{}/connect", encode(room));
            let answer = self.api.call("POST", &path, Some(&json!({}))).await?;
            let (Some(url), Some(token)) = (answer["room_url"].as_str(), answer["jwt"].as_str())
            else {
                return Err(format!("{path}: the answer has no room_url and jwt"));
            };
            Ok(OpenedRoom {
                url: url.to_string(),
                token: token.to_string(),
                name: crate::tui::token_name(token).unwrap_or_default(),
                location: format!("via {}", self.api.base.split("://").last().unwrap_or("")),
                guard: Box::new(NoGuard),
            })
        })
    }

    fn list(&self) -> Pin<Box<dyn Future<Output = Result<Vec<RoomInfo>, String>> + Send + '_>> {
        Box::pin(async move {
            let mut rooms = Vec::new();
            let mut next: Option<String> = None;
            loop {
                let mut q = "/rooms?page_size=500".to_string();
                if let Some(t) = &next {
                    q.push_str(&format!("&continuation_token={}", encode(t)));
                }
                let page = self.api.call("GET", &q, None).await?;
                let list = page["rooms"].as_array().cloned().unwrap_or_default();
                rooms.extend(list.iter().map(room_info_json));
                next = page["continuation_token"].as_str().map(str::to_string);
                if next.is_none() || list.is_empty() {
                    return Ok(rooms);
                }
            }
        })
    }

    fn create<'a>(
        &'a self,
        room: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            let body = json!({"name": room, "if_not_exists": false});
            self.api.call("POST", "/rooms", Some(&body)).await.map(drop)
        })
    }

    fn delete<'a>(
        &'a self,
        room: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            let path = format!("/rooms/{}", encode(room));
            self.api.call("DELETE", &path, None).await.map(drop)
        })
    }
}

/// A remote room has no server of ours to keep up.
struct NoGuard;

impl RoomGuard for NoGuard {
    fn close(self: Box<Self>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(async {})
    }
}
