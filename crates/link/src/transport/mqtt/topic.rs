//! The topic template: where each reading (or each of its fields) is published.
//!
//! A template is a topic name with placeholders, e.g. `edgewise/{device}/{sensor}/{channel}`.
//! It is checked once, when the transport is configured, so a typo fails at start-up with the
//! offending part named instead of producing odd topics in the field.

use std::fmt::Write as _;

/// A placeholder a template may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placeholder {
    /// The configured device name.
    Device,
    /// The reading's sensor.
    Sensor,
    /// The field's channel: one message per field.
    Channel,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Placeholder(Placeholder),
}

/// A validated topic template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicTemplate {
    source: String,
    parts: Vec<Part>,
}

/// A template that cannot be used, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("MQTT topic template `{template}`: {problem}")]
pub struct TopicTemplateError {
    /// The template as configured.
    pub template: String,
    /// What is wrong with it.
    pub problem: String,
}

/// A substituted value that would change the topic's structure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} `{value}` cannot be part of an MQTT topic: {problem}")]
pub struct TopicValueError {
    /// Which placeholder it was meant for (`sensor`, `channel`, `device`).
    pub what: &'static str,
    /// The value.
    pub value: String,
    /// Why not.
    pub problem: &'static str,
}

impl TopicTemplate {
    /// Parses and checks `template`: only `{device}`, `{sensor}` and `{channel}` placeholders,
    /// no wildcards (`+`, `#`: they are for subscriptions), no empty levels, no NUL.
    pub fn parse(template: &str) -> Result<Self, TopicTemplateError> {
        let error = |problem: String| TopicTemplateError {
            template: template.to_string(),
            problem,
        };
        if template.is_empty() {
            return Err(error("is empty".into()));
        }
        if template.contains(['+', '#']) {
            return Err(error(
                "contains a wildcard (`+` or `#`); those are for subscribing, a published topic \
                 must be concrete"
                    .into(),
            ));
        }
        if template.contains('\0') {
            return Err(error("contains a NUL character".into()));
        }
        if template.split('/').any(str::is_empty) {
            return Err(error(
                "has an empty level (a leading or trailing `/`, or `//`)".into(),
            ));
        }
        let mut parts = Vec::new();
        let mut rest = template;
        while !rest.is_empty() {
            match rest.find(['{', '}']) {
                None => {
                    parts.push(Part::Literal(rest.to_string()));
                    rest = "";
                }
                Some(at) if rest.as_bytes()[at] == b'}' => {
                    return Err(error(format!(
                        "a `}}` without its `{{` at byte {}",
                        template.len() - rest.len() + at
                    )));
                }
                Some(open) => {
                    if open > 0 {
                        parts.push(Part::Literal(rest[..open].to_string()));
                    }
                    let after = &rest[open + 1..];
                    let close = after.find('}').ok_or_else(|| {
                        error(format!(
                            "a `{{` without its `}}` at byte {}",
                            template.len() - rest.len() + open
                        ))
                    })?;
                    let name = &after[..close];
                    let placeholder = match name {
                        "device" => Placeholder::Device,
                        "sensor" => Placeholder::Sensor,
                        "channel" => Placeholder::Channel,
                        other => {
                            return Err(error(format!(
                                "unknown placeholder `{{{other}}}`; the known ones are \
                                 {{device}}, {{sensor}} and {{channel}}"
                            )))
                        }
                    };
                    parts.push(Part::Placeholder(placeholder));
                    rest = &after[close + 1..];
                }
            }
        }
        Ok(Self {
            source: template.to_string(),
            parts,
        })
    }

    /// Whether the template names the channel, so each field travels in its own message.
    pub fn per_channel(&self) -> bool {
        self.parts
            .contains(&Part::Placeholder(Placeholder::Channel))
    }

    /// The template as configured.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The topic for one message. `channel` is ignored unless the template names it.
    pub fn render(
        &self,
        device: &str,
        sensor: &str,
        channel: &str,
    ) -> Result<String, TopicValueError> {
        let mut topic = String::with_capacity(self.source.len() + sensor.len() + channel.len());
        for part in &self.parts {
            let (what, value) = match part {
                Part::Literal(text) => {
                    topic.push_str(text);
                    continue;
                }
                Part::Placeholder(Placeholder::Device) => ("device", device),
                Part::Placeholder(Placeholder::Sensor) => ("sensor", sensor),
                Part::Placeholder(Placeholder::Channel) => ("channel", channel),
            };
            check_value(what, value)?;
            // Writing to a String cannot fail.
            let _ = write!(topic, "{value}");
        }
        Ok(topic)
    }
}

/// A value must fill exactly one topic level: no separators, wildcards, or emptiness.
fn check_value(what: &'static str, value: &str) -> Result<(), TopicValueError> {
    let problem = if value.is_empty() {
        Some("it is empty, which would leave an empty topic level")
    } else if value.contains('/') {
        Some("it contains `/`, which would add topic levels")
    } else if value.contains(['+', '#']) {
        Some("it contains an MQTT wildcard (`+` or `#`)")
    } else if value.contains('\0') {
        Some("it contains a NUL character")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(TopicValueError {
            what,
            value: value.to_string(),
            problem,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(template: &str) -> String {
        TopicTemplate::parse(template)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_else(|| panic!("`{template}` was accepted"))
    }

    #[test]
    fn placeholders_are_substituted_level_by_level() {
        let template = TopicTemplate::parse("site-1/{device}/{sensor}/{channel}")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(template.per_channel());
        assert_eq!(
            template.render("pump-7", "bme280", "temperature"),
            Ok("site-1/pump-7/bme280/temperature".to_string())
        );
        let whole =
            TopicTemplate::parse("{device}/readings/{sensor}-v1").unwrap_or_else(|e| panic!("{e}"));
        assert!(!whole.per_channel());
        assert_eq!(
            whole.render("d", "sht31", "ignored"),
            Ok("d/readings/sht31-v1".to_string())
        );
    }

    #[test]
    fn bad_templates_are_refused_with_the_reason() {
        assert!(problem("{device}/{sensr}").contains("unknown placeholder `{sensr}`"));
        assert!(problem("a/+/b").contains("wildcard"));
        assert!(problem("a/#").contains("wildcard"));
        assert!(problem("a//b").contains("empty level"));
        assert!(problem("/a").contains("empty level"));
        assert!(problem("a/").contains("empty level"));
        assert!(problem("").contains("empty"));
        assert!(problem("a/{sensor").contains("without its `}`"));
        assert!(problem("a/sensor}").contains("without its `{`"));
    }

    #[test]
    fn values_that_would_change_the_topic_structure_are_refused() {
        let template = TopicTemplate::parse("{device}/{sensor}").unwrap_or_else(|e| panic!("{e}"));
        let error = template.render("d", "a/b", "").err();
        assert_eq!(error.map(|e| e.what), Some("sensor"));
        assert!(template.render("d", "x+", "").is_err());
        assert!(template.render("", "s", "").is_err());
    }
}
