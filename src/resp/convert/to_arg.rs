//! [`ToArg`]: Rust values as command arguments.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{Cursor, Write as _};
use std::rc::Rc;
use std::sync::Arc;

use bytes::Bytes;

use crate::resp::encode::CommandBuf;

/// A value that becomes one or more arguments of a command.
///
/// | Rust type | arguments |
/// |---|---|
/// | `str`, `String`, `[u8]`, `Vec<u8>`, `[u8; N]`, [`Bytes`] | one, the bytes as they are |
/// | integers (`i8` … `i128`, `u8` … `u128`, `isize`, `usize`) | one, in decimal (formatted without allocating) |
/// | `f64`, `f32` | one, in the syntax Redis parses: `inf`, `-inf`, or the shortest decimal that reads back as the same number (`0.1`, not `0.1000000015` for an `f32`) |
/// | `[T]`, `Vec<T>`, `[T; N]`, `HashSet<T>`, `BTreeSet<T>` | each element's arguments in turn (except `u8`, above) |
/// | `HashMap<K, V>`, `BTreeMap<K, V>` | `k1 v1 k2 v2 …` (HSET, MSET) |
/// | `(A, B)`, `(A, B, C)`, `(A, B, C, D)` | each part's arguments in turn, so `&[("k1", "v1"), ("k2", "v2")]` is `k1 v1 k2 v2` |
/// | `Option<T>` | `T`'s arguments, or none for `None` |
/// | `()` | none (an empty list of keys or members) |
/// | `&T`, `&mut T`, `Box<T>`, `Rc<T>`, `Arc<T>`, `Cow<T>` | `T`'s arguments |
///
/// `bool` and `char` are deliberately not arguments: Redis has no boolean argument, and
/// whether `true` should be `1` or `true` depends on the command. Floats are sent as given:
/// a NaN is written as `NaN`, which Redis refuses with an error reply.
///
/// # Examples
///
/// ```
/// use redpoll::{resp::CommandBuf, ToArg};
///
/// let mut cmd = CommandBuf::new();
/// "MSET".write_args(&mut cmd);
/// [("k1", 1), ("k2", 2)].write_args(&mut cmd);
/// assert_eq!(&cmd.finish()[..], &b"*5\r\n$4\r\nMSET\r\n$2\r\nk1\r\n$1\r\n1\r\n$2\r\nk2\r\n$1\r\n2\r\n"[..]);
///
/// // A byte vector is one binary argument, not one argument per byte.
/// let mut cmd = CommandBuf::new();
/// vec![0u8, 255].write_args(&mut cmd);
/// assert_eq!(cmd.argc(), 1);
/// ```
pub trait ToArg {
    /// Appends this value's arguments to the command.
    fn write_args(&self, out: &mut CommandBuf);

    /// Appends the arguments of every element of a slice: each element's in turn, except for
    /// `u8`, whose slices are one binary argument.
    #[doc(hidden)]
    fn write_slice(items: &[Self], out: &mut CommandBuf)
    where
        Self: Sized,
    {
        for item in items {
            item.write_args(out);
        }
    }
}

/// No arguments: for a repeated argument that may be empty (`client.eval(script, ())`).
impl ToArg for () {
    fn write_args(&self, _out: &mut CommandBuf) {}
}

impl ToArg for str {
    fn write_args(&self, out: &mut CommandBuf) {
        out.push(self.as_bytes());
    }
}

impl ToArg for String {
    fn write_args(&self, out: &mut CommandBuf) {
        out.push(self.as_bytes());
    }
}

impl ToArg for Bytes {
    /// A large value is sent from the same memory, without a copy
    /// ([`CommandBuf::push_bytes`]).
    fn write_args(&self, out: &mut CommandBuf) {
        out.push_bytes(self);
    }
}

impl<T: ToArg> ToArg for [T] {
    fn write_args(&self, out: &mut CommandBuf) {
        T::write_slice(self, out);
    }
}

impl<T: ToArg> ToArg for Vec<T> {
    fn write_args(&self, out: &mut CommandBuf) {
        T::write_slice(self, out);
    }
}

impl<T: ToArg, const N: usize> ToArg for [T; N] {
    fn write_args(&self, out: &mut CommandBuf) {
        T::write_slice(self, out);
    }
}

impl<T: ToArg, S> ToArg for HashSet<T, S> {
    fn write_args(&self, out: &mut CommandBuf) {
        for item in self {
            item.write_args(out);
        }
    }
}

impl<T: ToArg> ToArg for BTreeSet<T> {
    fn write_args(&self, out: &mut CommandBuf) {
        for item in self {
            item.write_args(out);
        }
    }
}

impl<K: ToArg, V: ToArg, S> ToArg for HashMap<K, V, S> {
    fn write_args(&self, out: &mut CommandBuf) {
        for (k, v) in self {
            k.write_args(out);
            v.write_args(out);
        }
    }
}

impl<K: ToArg, V: ToArg> ToArg for BTreeMap<K, V> {
    fn write_args(&self, out: &mut CommandBuf) {
        for (k, v) in self {
            k.write_args(out);
            v.write_args(out);
        }
    }
}

impl<T: ToArg> ToArg for Option<T> {
    fn write_args(&self, out: &mut CommandBuf) {
        if let Some(value) = self {
            value.write_args(out);
        }
    }
}

macro_rules! impl_deref {
    ($($ty:ty),+) => {$(
        impl<T: ToArg + ?Sized> ToArg for $ty {
            fn write_args(&self, out: &mut CommandBuf) {
                (**self).write_args(out);
            }
        }
    )+};
}

impl_deref!(&T, &mut T, Box<T>, Rc<T>, Arc<T>);

impl<T: ToArg + ToOwned + ?Sized> ToArg for Cow<'_, T> {
    fn write_args(&self, out: &mut CommandBuf) {
        (**self).write_args(out);
    }
}

macro_rules! impl_tuple {
    ($(($($name:ident),+);)+) => {$(
        impl<$($name: ToArg),+> ToArg for ($($name,)+) {
            // The bindings are named after the type parameters.
            #[allow(non_snake_case)]
            fn write_args(&self, out: &mut CommandBuf) {
                let ($($name,)+) = self;
                $($name.write_args(out);)+
            }
        }
    )+};
}

impl_tuple! {
    (A, B);
    (A, B, C);
    (A, B, C, D);
}

macro_rules! impl_signed {
    ($($t:ty),+) => {$(
        impl ToArg for $t {
            fn write_args(&self, out: &mut CommandBuf) {
                match i64::try_from(*self) {
                    Ok(n) => out.push_int(n),
                    Err(_) => push_wide(out, *self),
                }
            }
        }
    )+};
}

macro_rules! impl_unsigned {
    ($($t:ty),+) => {$(
        impl ToArg for $t {
            fn write_args(&self, out: &mut CommandBuf) {
                match u64::try_from(*self) {
                    Ok(n) => out.push_uint(n),
                    Err(_) => push_wide(out, *self),
                }
            }
        }
    )+};
}

impl_signed!(i8, i16, i32, i64, i128, isize);
impl_unsigned!(u16, u32, u64, u128, usize);

impl ToArg for u8 {
    fn write_args(&self, out: &mut CommandBuf) {
        out.push_uint(u64::from(*self));
    }

    /// A byte slice is one binary argument.
    fn write_slice(items: &[Self], out: &mut CommandBuf) {
        out.push(items);
    }
}

/// Writes a number beyond 64 bits in decimal from a stack buffer (the longest, `i128::MIN`,
/// takes 40 bytes).
fn push_wide(out: &mut CommandBuf, n: impl std::fmt::Display) {
    push_formatted::<48>(out, n);
}

/// Formats `value` into an `N`-byte stack buffer and pushes it; a text longer than the
/// buffer falls back to a heap string.
fn push_formatted<const N: usize>(out: &mut CommandBuf, value: impl std::fmt::Display) {
    let mut buf = [0u8; N];
    let mut cursor = Cursor::new(&mut buf[..]);
    if write!(cursor, "{value}").is_ok() {
        let len = usize::try_from(cursor.position()).unwrap_or(N).min(N);
        out.push(&buf[..len]);
    } else {
        out.push(value.to_string().as_bytes());
    }
}

impl ToArg for f64 {
    fn write_args(&self, out: &mut CommandBuf) {
        out.push_float(*self);
    }
}

impl ToArg for f32 {
    /// Formatted as an `f32` (shortest text that reads back as the same `f32`), so `0.1f32`
    /// is sent as `0.1`.
    fn write_args(&self, out: &mut CommandBuf) {
        if self.is_infinite() {
            out.push(if *self > 0.0 { b"inf" } else { b"-inf" });
        } else {
            // The longest f32 text is the smallest subnormal, `-0.` and 44 more digits.
            push_formatted::<64>(out, self);
        }
    }
}

#[cfg(test)]
#[path = "to_arg_tests.rs"]
mod tests;
