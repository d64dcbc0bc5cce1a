//! Which metrics a reader may see: every one, or only those a portal session lists.

/// Every metric (an API key, a signed-in user, a portal session without a list), or only
/// the listed codes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetricScope(Option<Vec<String>>);

impl MetricScope {
    /// Every metric.
    pub fn all() -> MetricScope {
        MetricScope(None)
    }

    /// Only these codes.
    pub fn only(codes: Vec<String>) -> MetricScope {
        MetricScope(Some(codes))
    }

    /// The listed codes; `None` for every metric.
    pub fn codes(&self) -> Option<&[String]> {
        self.0.as_deref()
    }

    /// True when the metric `code` may be seen.
    pub fn allows(&self, code: &str) -> bool {
        self.0
            .as_ref()
            .is_none_or(|codes| codes.iter().any(|listed| listed == code))
    }

    /// Keeps the items whose metric (`code_of`) may be seen, in their order.
    pub fn retain<T>(&self, items: &mut Vec<T>, code_of: impl Fn(&T) -> &str) {
        items.retain(|item| self.allows(code_of(item)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_is_allowed_without_a_list_and_only_listed_ones_with_one() {
        let cases = [
            (MetricScope::all(), "apiCalls", true),
            (MetricScope::all(), "", true),
            (MetricScope::only(vec!["apiCalls".into()]), "apiCalls", true),
            (MetricScope::only(vec!["apiCalls".into()]), "storage", false),
            (
                MetricScope::only(vec!["apiCalls".into()]),
                "apicalls",
                false,
            ),
            (MetricScope::only(vec![]), "apiCalls", false),
        ];
        for (scope, code, allowed) in cases {
            assert_eq!(scope.allows(code), allowed, "{scope:?} {code}");
        }
    }

    #[test]
    fn retain_keeps_the_order_of_allowed_items() {
        let scope = MetricScope::only(vec!["c".into(), "a".into()]);
        let mut items = vec!["a", "b", "c", "d"];
        scope.retain(&mut items, |item| item);
        assert_eq!(items, ["a", "c"]);
    }
}
