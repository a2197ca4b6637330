//! [`FromValue`] for collections: `Vec`, `VecDeque`, `HashSet`, `BTreeSet`, `HashMap` and
//! `BTreeMap`, with one reading of sequences shared by all of them.
//!
//! A collection of tuples (a map is a collection of `(K, V)`) reads a reply in whichever
//! shape the server used: a RESP3 map's entries, an array of N-element arrays (RESP3
//! `WITHSCORES`), or a flat array chunked N at a time (RESP2 `WITHSCORES`, `HGETALL`).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, Hash};

use super::shape::{mismatch, peel, strip_attributes_ref};
use super::FromValue;
use crate::error::Error;
use crate::resp::value::Value;

/// What a collection is called in conversion errors: `"a list"`, `"a list of tuples of 2"`,
/// `"a map"`.
#[derive(Clone, Copy)]
enum Noun {
    List,
    Set,
    Map,
}

fn expected<T: FromValue>(noun: Noun) -> String {
    let name = match noun {
        Noun::Map => return "a map".to_string(),
        Noun::List => "list",
        Noun::Set => "set",
    };
    match T::GROUP {
        0 => format!("a {name}"),
        n => format!("a {name} of tuples of {n}"),
    }
}

/// True when `items` is an array of `n`-element arrays: at least one element is such an
/// array and every other one is such an array or nil.
fn is_nested(items: &[Value], n: usize) -> bool {
    let mut seen = false;
    for item in items {
        match strip_attributes_ref(item) {
            Value::Array(inner) if inner.len() == n => seen = true,
            Value::Nil => {}
            _ => return false,
        }
    }
    seen
}

/// Converts an aggregate (or nil) into a collection of `T`, built by `init(capacity)` and
/// `push`. The value has been peeled already.
fn collect<T: FromValue, C>(
    value: Value,
    noun: Noun,
    init: impl FnOnce(usize) -> C,
    mut push: impl FnMut(&mut C, T),
) -> Result<C, Error> {
    match value {
        Value::Nil => Ok(init(0)),
        Value::Map(pairs) => match T::GROUP {
            // A map read as a plain list: keys and values in turn.
            0 => {
                let mut out = init(pairs.len().saturating_mul(2));
                for (k, v) in pairs {
                    push(&mut out, T::from_value(k)?);
                    push(&mut out, T::from_value(v)?);
                }
                Ok(out)
            }
            2 => {
                let mut out = init(pairs.len());
                for (k, v) in pairs {
                    push(&mut out, T::from_group(&mut [k, v].into_iter())?);
                }
                Ok(out)
            }
            _ => Err(mismatch(expected::<T>(noun), &Value::Map(pairs))),
        },
        Value::Array(items) | Value::Set(items) | Value::Push(items)
            if T::GROUP == 0 || is_nested(&items, T::GROUP) =>
        {
            let mut out = init(items.len());
            for item in items {
                push(&mut out, T::from_value(item)?);
            }
            Ok(out)
        }
        Value::Array(items) | Value::Set(items) | Value::Push(items)
            if items.len() % T::GROUP == 0 =>
        {
            let groups = items.len() / T::GROUP;
            let mut out = init(groups);
            let mut rest = items.into_iter();
            for _ in 0..groups {
                push(&mut out, T::from_group(&mut rest)?);
            }
            Ok(out)
        }
        other => Err(mismatch(expected::<T>(noun), &other)),
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    /// See the table on [`FromValue`]: an array, set or push (flat or of tuples), a map's
    /// entries, nil as empty; for `Vec<u8>`, a string's bytes.
    fn from_value(value: Value) -> Result<Self, Error> {
        match peel(value)? {
            aggregate @ (Value::Nil
            | Value::Array(_)
            | Value::Set(_)
            | Value::Push(_)
            | Value::Map(_)) => collect(aggregate, Noun::List, Vec::with_capacity, Vec::push),
            scalar => T::vec_from_scalar(scalar)
                .map_err(|other| mismatch(expected::<T>(Noun::List), &other)),
        }
    }
}

impl<T: FromValue> FromValue for VecDeque<T> {
    /// As `Vec<T>`.
    fn from_value(value: Value) -> Result<Self, Error> {
        Vec::from_value(value).map(VecDeque::from)
    }
}

impl<T, S> FromValue for HashSet<T, S>
where
    T: FromValue + Eq + Hash,
    S: BuildHasher + Default,
{
    /// An array, set or push (or a map's entries, or nil as empty); repeated elements
    /// collapse into one.
    fn from_value(value: Value) -> Result<Self, Error> {
        let init = |n| HashSet::with_capacity_and_hasher(n, S::default());
        collect(peel(value)?, Noun::Set, init, |set, item| {
            set.insert(item);
        })
    }
}

impl<T: FromValue + Ord> FromValue for BTreeSet<T> {
    /// As `HashSet<T>`.
    fn from_value(value: Value) -> Result<Self, Error> {
        collect(
            peel(value)?,
            Noun::Set,
            |_| BTreeSet::new(),
            |set, item| {
                set.insert(item);
            },
        )
    }
}

impl<K, V, S> FromValue for HashMap<K, V, S>
where
    K: FromValue + Eq + Hash,
    V: FromValue,
    S: BuildHasher + Default,
{
    /// A map; a flat array `k1, v1, k2, v2` (an odd length is an error); an array of
    /// 2-element arrays; nil as empty. A repeated key keeps its last value.
    fn from_value(value: Value) -> Result<Self, Error> {
        let init = |n| HashMap::with_capacity_and_hasher(n, S::default());
        collect(peel(value)?, Noun::Map, init, |map, (k, v)| {
            map.insert(k, v);
        })
    }
}

impl<K: FromValue + Ord, V: FromValue> FromValue for BTreeMap<K, V> {
    /// As `HashMap<K, V>`.
    fn from_value(value: Value) -> Result<Self, Error> {
        collect(
            peel(value)?,
            Noun::Map,
            |_| BTreeMap::new(),
            |map, (k, v)| {
                map.insert(k, v);
            },
        )
    }
}

#[cfg(test)]
#[path = "collection_tests.rs"]
mod tests;
