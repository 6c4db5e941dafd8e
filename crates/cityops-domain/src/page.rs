//! Paging as the API contract fixes it: `?page=&page_size=`, default 50, at most 1000.
use serde::{Deserialize, Serialize};

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 1000;

/// A validated page request (1-based page number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    pub page: u32,
    pub page_size: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: 1,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }
}

impl PageRequest {
    /// Builds a page request from optional query values; `None` when a value is out of range.
    pub fn new(page: Option<u32>, page_size: Option<u32>) -> Option<Self> {
        let page = page.unwrap_or(1);
        let page_size = page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        if page == 0 || page_size == 0 || page_size > MAX_PAGE_SIZE {
            return None;
        }
        Some(Self { page, page_size })
    }
    pub fn offset(&self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.page_size)
    }
    pub fn limit(&self) -> i64 {
        i64::from(self.page_size)
    }
}

/// One page of a list: `{"items": [...], "total": N, "page": P, "page_size": S}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
}

impl<T> Page<T> {
    pub fn new(items: Vec<T>, total: u64, req: PageRequest) -> Self {
        Self {
            items,
            total,
            page: req.page,
            page_size: req.page_size,
        }
    }
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            page: self.page,
            page_size: self.page_size,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_limits() {
        assert_eq!(
            PageRequest::new(None, None),
            Some(PageRequest {
                page: 1,
                page_size: 50
            })
        );
        assert_eq!(PageRequest::new(Some(0), None), None);
        assert_eq!(PageRequest::new(None, Some(1001)), None);
        assert_eq!(
            PageRequest::new(Some(3), Some(1000)).unwrap().offset(),
            2000
        );
    }
}
