use super::*;
use proptest::prelude::*;

fn cmp(attr: Attribute, op: Op, value: Value) -> Filter {
    Filter::Compare(attr, op, value)
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

#[test]
fn every_operator_and_value_form() {
    use Attribute as A;
    let cases: Vec<(&str, Filter)> = vec![
        (
            r#"name.first_name eq "John""#,
            cmp(A::Name(NamePart::First), Op::Eq, text("John")),
        ),
        (
            r#"email ne "Jo@Example.com""#,
            cmp(A::Email, Op::Ne, text("jo@example.com")),
        ),
        (
            r#"email co "@example""#,
            cmp(A::Email, Op::Co, text("@example")),
        ),
        (r#"EMAIL SW "sales""#, cmp(A::Email, Op::Sw, text("sales"))),
        (
            r#"phone_number ew "0123""#,
            cmp(A::PhoneNumber, Op::Ew, text("0123")),
        ),
        (
            r#"username Eq "Ann""#,
            cmp(A::Username, Op::Eq, text("ann")),
        ),
        (
            r#"created_at gt 1700000000000"#,
            cmp(A::CreatedAt, Op::Gt, Value::Instant(1_700_000_000_000)),
        ),
        (
            r#"last_auth ge "2023-04-22T05:52:49.703+00:00""#,
            cmp(A::LastAuth, Op::Ge, Value::Instant(1_682_142_769_703)),
        ),
        (
            r#"updated_at lt "1970-01-02""#,
            cmp(A::UpdatedAt, Op::Lt, Value::Instant(86_400_000)),
        ),
        (
            r#"birthday le "2000-01-31""#,
            cmp(A::Birthday, Op::Le, Value::Date("2000-01-31".into())),
        ),
        ("external_user_id pr", Filter::Present(A::ExternalUserId)),
        (
            r#"custom_data.plan eq "gold""#,
            cmp(A::CustomData(vec!["plan".into()]), Op::Eq, text("gold")),
        ),
        (
            "custom_data.a.b gt -1.5e2",
            cmp(
                A::CustomData(vec!["a".into(), "b".into()]),
                Op::Gt,
                Value::Number(-150.0),
            ),
        ),
        (
            "custom_app_data.vip eq TRUE",
            cmp(
                A::CustomAppData(vec!["vip".into()]),
                Op::Eq,
                Value::Bool(true),
            ),
        ),
        (
            "custom_data.x eq null",
            cmp(A::CustomData(vec!["x".into()]), Op::Eq, Value::Null),
        ),
        ("email ne null", cmp(A::Email, Op::Ne, Value::Null)),
        (
            r#"secondary_emails eq "B@x.io""#,
            cmp(A::SecondaryEmails, Op::Eq, text("b@x.io")),
        ),
        (r#"groupIds eq "g1""#, cmp(A::GroupIds, Op::Eq, text("g1"))),
        (
            r#"address.country eq "USA""#,
            cmp(A::Address(AddressPart::Country), Op::Eq, text("USA")),
        ),
        (
            r#"status eq "Active""#,
            cmp(A::Status, Op::Eq, text("Active")),
        ),
        (r#"user_id eq "abc""#, cmp(A::UserId, Op::Eq, text("abc"))),
        (
            r#"name.last_name eq "say \"hi\" \\ \u00e9""#,
            cmp(A::Name(NamePart::Last), Op::Eq, text("say \"hi\" \\ é")),
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(parse(input), Ok(expected), "{input}");
    }
}

#[test]
fn precedence_parentheses_and_not() {
    let a = || cmp(Attribute::Email, Op::Eq, text("a"));
    let b = || cmp(Attribute::Email, Op::Eq, text("b"));
    let c = || cmp(Attribute::Email, Op::Eq, text("c"));
    let cases: Vec<(&str, Filter)> = vec![
        (
            r#"email eq "a" or email eq "b" and email eq "c""#,
            Filter::Or(vec![a(), Filter::And(vec![b(), c()])]),
        ),
        (
            r#"email eq "a" and email eq "b" or email eq "c""#,
            Filter::Or(vec![Filter::And(vec![a(), b()]), c()]),
        ),
        (
            r#"(email eq "a" or email eq "b") and email eq "c""#,
            Filter::And(vec![Filter::Or(vec![a(), b()]), c()]),
        ),
        (
            r#"(email eq "a")and(email eq "b")"#,
            Filter::And(vec![a(), b()]),
        ),
        (r#"not(email eq "a")"#, Filter::Not(Box::new(a()))),
        (
            r#"NOT (email eq "a" OR email eq "b")"#,
            Filter::Not(Box::new(Filter::Or(vec![a(), b()]))),
        ),
        (r#"((email eq "a"))"#, a()),
        (
            r#"email eq "a" and email eq "b" and email eq "c""#,
            Filter::And(vec![a(), b(), c()]),
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(parse(input), Ok(expected), "{input}");
    }
}

#[test]
fn errors_name_the_position_and_the_problem() {
    let cases: Vec<(&str, usize, &str)> = vec![
        ("", 1, "empty"),
        (r#"nickname eq "x""#, 1, "unknown attribute 'nickname'"),
        (r#"email is "x""#, 7, "'is' is not an operator"),
        (r#"email eq"#, 9, "a value is expected after 'eq'"),
        ("email", 6, "an operator is expected after 'email'"),
        (r#"email eq "x"#, 10, "unterminated string"),
        (
            r#"(email eq "x""#,
            14,
            "')' expected to close the '(' at position 1",
        ),
        (r#"email eq "x")"#, 13, "')' closes no '('"),
        (r#"email eq "x" email eq "y""#, 14, "expected 'and', 'or'"),
        (r#"email eq john"#, 10, "not a value: quote strings"),
        (r#"email eq 5"#, 10, "email eq: takes a quoted string"),
        (
            r#"custom_data.flag gt true"#,
            21,
            "true and false can only be compared with eq or ne",
        ),
        (
            r#"created_at co "2020""#,
            15,
            "a date takes eq ne gt ge lt le",
        ),
        (
            r#"created_at gt "yesterday""#,
            15,
            "not an ISO 8601 date-time",
        ),
        (r#"birthday eq "2000-13-01""#, 13, "YYYY-MM-DD"),
        (r#"custom_data.n sw 5"#, 18, "co, sw and ew take a string"),
        (
            r#"email gt null"#,
            10,
            "null can only be compared with eq or ne",
        ),
        (r#"not email eq "x""#, 5, "'not' must be followed by '('"),
        (
            r#"email eq "x" and"#,
            17,
            "the filter ends where an expression was expected",
        ),
        (
            r#"email eq "x" ; drop table users"#,
            14,
            "unexpected character ';'",
        ),
        (r#"email eq "\q""#, 11, "unknown escape"),
        (r#"custom_data. eq "x""#, 1, "empty key"),
        (r#"email eq 01"#, 10, "'01' is not a number"),
        (
            r#""x" eq email"#,
            1,
            "a value where an attribute was expected",
        ),
    ];
    for (input, at, problem) in cases {
        let err = parse(input).expect_err(input);
        assert_eq!(err.at, at, "{input}: {err}");
        assert!(err.problem.contains(problem), "{input}: {err}");
    }
}

#[test]
fn length_and_depth_are_limited() {
    let long = format!(r#"email eq "{}""#, "a".repeat(MAX_BYTES));
    assert!(parse(&long).unwrap_err().problem.contains("4096 bytes"));
    let nested = |n: usize| format!("{}email pr{}", "(".repeat(n), ")".repeat(n));
    assert!(parse(&nested(MAX_DEPTH)).is_ok());
    let err = parse(&nested(MAX_DEPTH + 1)).unwrap_err();
    assert!(err.problem.contains("deeper than 32"), "{err}");
    let nots = format!(
        "{}email pr{}",
        "not (".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    assert!(parse(&nots).unwrap_err().problem.contains("deeper"));
}

#[test]
fn injection_attempts_are_refused_or_literal() {
    for input in [
        r#"email eq "x" or 1=1"#,
        r#"email eq "x"; DELETE FROM users"#,
        r#"email eq "x" -- comment"#,
        r#"email eq 'x'"#,
        r#"email eq "x" /* c */"#,
        "email eq `x`",
    ] {
        assert!(parse(input).is_err(), "{input}");
    }
    for literal in [
        r#"a' OR '1'='1"#,
        "x\"; DROP TABLE users; --",
        r"\\ \u0000 ☃ 𝄞 ) (",
    ] {
        let written = serde_json::Value::String(literal.into()).to_string();
        let f = parse(&format!("name.last_name eq {written}")).unwrap();
        assert_eq!(
            f,
            cmp(Attribute::Name(NamePart::Last), Op::Eq, text(literal))
        );
    }
}

fn attribute() -> impl Strategy<Value = Attribute> {
    let key = "[a-zA-Z_][a-zA-Z0-9_-]{0,6}";
    prop_oneof![
        Just(Attribute::Email),
        Just(Attribute::Username),
        Just(Attribute::PhoneNumber),
        Just(Attribute::Name(NamePart::Last)),
        Just(Attribute::Address(AddressPart::City)),
        Just(Attribute::SecondaryEmails),
        Just(Attribute::CreatedAt),
        Just(Attribute::Birthday),
        proptest::collection::vec(key, 1..3).prop_map(Attribute::CustomData),
        proptest::collection::vec(key, 1..3).prop_map(Attribute::CustomAppData),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Eq),
        Just(Op::Ne),
        Just(Op::Co),
        Just(Op::Sw),
        Just(Op::Ew),
        Just(Op::Gt),
        Just(Op::Ge),
        Just(Op::Lt),
        Just(Op::Le),
    ]
}

/// A comparison that type-checks, with its value in the attribute's terms.
fn leaf() -> impl Strategy<Value = Filter> {
    (
        attribute(),
        op(),
        any::<String>(),
        any::<i64>(),
        any::<f64>(),
        any::<bool>(),
        0u8..4,
    )
        .prop_map(|(a, op, s, n, x, b, pick)| {
            let value = match a.kind() {
                Kind::Text { folded } | Kind::TextArray { folded } => {
                    Value::Text(if folded { s.to_lowercase() } else { s })
                }
                Kind::Instant => Value::Instant(n % 100_000_000_000_000),
                Kind::Date => Value::Date("2001-02-03".into()),
                Kind::Json => match pick {
                    0 => Value::Text(s),
                    1 if x.is_finite() && !op.is_substring() => Value::Number(x),
                    2 if matches!(op, Op::Eq | Op::Ne) => Value::Bool(b),
                    _ => Value::Text(s),
                },
            };
            let op = if op.is_substring() && matches!(a.kind(), Kind::Instant | Kind::Date) {
                Op::Eq
            } else {
                op
            };
            if pick == 3 {
                Filter::Present(a)
            } else {
                Filter::Compare(a, op, value)
            }
        })
}

fn filter() -> impl Strategy<Value = Filter> {
    leaf().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 2..4).prop_map(Filter::And),
            proptest::collection::vec(inner.clone(), 2..4).prop_map(Filter::Or),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
}

proptest! {
    /// Rendering a filter and parsing it again gives the same filter.
    #[test]
    fn rendering_parses_back_to_the_same_filter(f in filter()) {
        let text = f.to_string();
        prop_assume!(text.len() <= MAX_BYTES);
        prop_assert_eq!(parse(&text), Ok(f), "{}", text);
    }

    /// Whatever the text, parsing answers (a filter or an error) and never panics.
    #[test]
    fn any_text_parses_or_is_refused(s in "\\PC{0,80}") {
        let _ = parse(&s);
    }
}
