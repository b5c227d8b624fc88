//! The application container: typed binding keys, values and providers.
//!
//! A [`BindingKey<T>`] carries the key string (the same strings as the
//! reference framework, e.g. `@app/socket-io/authenticate-handler`) and the
//! type of the value bound under it, so binding a value of the wrong type is a
//! compile error rather than a failed cast at run time.

use std::any::{Any, type_name};
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, RwLock};

/// A key under which a value of type `T` is bound in a [`Container`].
///
/// Keys are cheap `const` values; define them once, as
/// [`SocketIOBindingKeys`](crate::SocketIOBindingKeys) does.
///
/// ```
/// use ignis_socketio_component::{BindingKey, Container};
///
/// const GREETING: BindingKey<String> = BindingKey::new("@app/greeting");
///
/// let container = Container::new();
/// container.bind(&GREETING).to_value("hello".to_string());
/// assert_eq!(container.get(&GREETING).unwrap(), "hello");
/// ```
///
/// Binding a value of another type under the key does not compile:
///
/// ```compile_fail
/// use ignis_socketio_component::{BindingKey, Container};
///
/// const GREETING: BindingKey<String> = BindingKey::new("@app/greeting");
/// Container::new().bind(&GREETING).to_value(42_u32);
/// ```
pub struct BindingKey<T> {
    key: &'static str,
    // `fn() -> T` keeps the key `Send + Sync + Copy` whatever `T` is.
    value_type: PhantomData<fn() -> T>,
}

impl<T> BindingKey<T> {
    /// A key with the given string.
    pub const fn new(key: &'static str) -> Self {
        BindingKey {
            key,
            value_type: PhantomData,
        }
    }

    /// The key string, e.g. `@app/socket-io/instance`.
    pub const fn as_str(&self) -> &'static str {
        self.key
    }
}

impl<T> Clone for BindingKey<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for BindingKey<T> {}

impl<T> fmt::Debug for BindingKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BindingKey")
            .field("key", &self.key)
            .field("type", &type_name::<T>())
            .finish()
    }
}

impl<T> fmt::Display for BindingKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key)
    }
}

/// What can go wrong when reading the container.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContainerError {
    /// Nothing is bound under the key.
    #[error("Binding key: {key} is not bound")]
    NotBound {
        /// The key string.
        key: String,
    },
    /// A value of another type is bound under the key string (two keys with
    /// the same string and different types were used).
    #[error("Binding key: {key} holds a {found}, not a {expected}")]
    TypeMismatch {
        /// The key string.
        key: String,
        /// The type the key asked for.
        expected: &'static str,
        /// The type of the bound value.
        found: &'static str,
    },
    /// The provider bound under the key failed.
    #[error("Binding key: {key}: provider failed: {message}")]
    Provider {
        /// The key string.
        key: String,
        /// The provider's error, as text.
        message: String,
    },
    /// A provider asked (directly or not) for the key it provides.
    #[error("Binding key: {key} depends on itself (provider cycle)")]
    Cycle {
        /// The key string.
        key: String,
    },
}

type AnyValue = Arc<dyn Any + Send + Sync>;
type AnyProvider = Arc<dyn Fn(&Container) -> Result<AnyValue, ContainerError> + Send + Sync>;

#[derive(Clone)]
enum Binding {
    Value {
        value: AnyValue,
        type_name: &'static str,
    },
    Provider {
        provider: AnyProvider,
        type_name: &'static str,
    },
}

impl Binding {
    fn type_name(&self) -> &'static str {
        match self {
            Binding::Value { type_name, .. } | Binding::Provider { type_name, .. } => type_name,
        }
    }
}

/// The application container: a map from key strings to values or providers.
///
/// Cloning a container gives another handle on the same bindings, so a
/// component, a route handler and the application can share one.
/// Binding a key that is already bound replaces it, like the reference's
/// `Container.bind`.
#[derive(Clone, Default)]
pub struct Container {
    bindings: Arc<RwLock<HashMap<&'static str, Binding>>>,
}

impl fmt::Debug for Container {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (key, binding) in self.read().iter() {
            map.entry(key, &binding.type_name());
        }
        map.finish()
    }
}

thread_local! {
    // Keys whose providers are running on this thread, to report cycles
    // instead of recursing forever. Providers are synchronous, so a
    // thread-local stack is exact.
    static RESOLVING: std::cell::RefCell<Vec<&'static str>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Container {
    /// An empty container.
    pub fn new() -> Self {
        Container::default()
    }

    // A poisoned lock only means a provider panicked while a writer held
    // it; the map itself is always left consistent, so keep using it.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<&'static str, Binding>> {
        self.bindings
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<&'static str, Binding>> {
        self.bindings
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts binding `key`; finish with [`Binder::to_value`] or
    /// [`Binder::to_provider`].
    pub fn bind<'a, T>(&'a self, key: &BindingKey<T>) -> Binder<'a, T>
    where
        T: Clone + Send + Sync + 'static,
    {
        Binder {
            container: self,
            key: *key,
        }
    }

    /// Binds `value` under `key` only if nothing is bound there yet (the
    /// reference's `initDefaultBindings`); returns whether it was bound.
    pub fn bind_default<T>(&self, key: &BindingKey<T>, value: T) -> bool
    where
        T: Clone + Send + Sync + 'static,
    {
        // Check and insert under one write lock, so two callers cannot both win.
        let mut bindings = self.write();
        if bindings.contains_key(key.as_str()) {
            return false;
        }
        bindings.insert(
            key.as_str(),
            Binding::Value {
                value: Arc::new(value),
                type_name: type_name::<T>(),
            },
        );
        true
    }

    /// Whether anything is bound under `key`.
    pub fn is_bound<T>(&self, key: &BindingKey<T>) -> bool {
        self.read().contains_key(key.as_str())
    }

    /// Removes the binding under `key`; returns whether there was one.
    pub fn unbind<T>(&self, key: &BindingKey<T>) -> bool {
        self.write().remove(key.as_str()).is_some()
    }

    /// The key strings bound now, sorted.
    pub fn keys(&self) -> Vec<&'static str> {
        let mut keys: Vec<_> = self.read().keys().copied().collect();
        keys.sort_unstable();
        keys
    }

    /// The value bound under `key`.
    ///
    /// # Errors
    ///
    /// [`ContainerError::NotBound`] naming the key when nothing is bound,
    /// [`ContainerError::Provider`] when its provider fails.
    pub fn get<T>(&self, key: &BindingKey<T>) -> Result<T, ContainerError>
    where
        T: Clone + Send + Sync + 'static,
    {
        self.get_optional(key)?
            .ok_or_else(|| ContainerError::NotBound {
                key: key.as_str().to_owned(),
            })
    }

    /// The value bound under `key`, or `None` when nothing is bound.
    ///
    /// # Errors
    ///
    /// Only when something is bound and cannot be produced as a `T`.
    pub fn get_optional<T>(&self, key: &BindingKey<T>) -> Result<Option<T>, ContainerError>
    where
        T: Clone + Send + Sync + 'static,
    {
        // Clone the binding out so the lock is not held while a provider runs
        // (providers read the container themselves).
        let Some(binding) = self.read().get(key.as_str()).cloned() else {
            return Ok(None);
        };
        let value = match binding {
            Binding::Value { value, .. } => value,
            Binding::Provider { provider, .. } => self.run_provider(key.as_str(), &provider)?,
        };
        match value.downcast_ref::<T>() {
            Some(value) => Ok(Some(value.clone())),
            None => Err(ContainerError::TypeMismatch {
                key: key.as_str().to_owned(),
                expected: type_name::<T>(),
                found: self
                    .read()
                    .get(key.as_str())
                    .map_or("nothing", Binding::type_name),
            }),
        }
    }

    fn run_provider(
        &self,
        key: &'static str,
        provider: &AnyProvider,
    ) -> Result<AnyValue, ContainerError> {
        let cyclic = RESOLVING.with(|stack| {
            let mut stack = stack.borrow_mut();
            if stack.contains(&key) {
                true
            } else {
                stack.push(key);
                false
            }
        });
        if cyclic {
            return Err(ContainerError::Cycle {
                key: key.to_owned(),
            });
        }
        // Popped on drop, so a panicking provider does not leave the key marked.
        struct Resolving(&'static str);
        impl Drop for Resolving {
            fn drop(&mut self) {
                RESOLVING.with(|stack| stack.borrow_mut().retain(|k| *k != self.0));
            }
        }
        let _resolving = Resolving(key);
        provider(self)
    }

    fn insert(&self, key: &'static str, binding: Binding) {
        if self.write().insert(key, binding).is_some() {
            tracing::debug!(key, "binding replaced");
        }
    }
}

/// Finishes a binding started with [`Container::bind`].
#[must_use = "a binding is made only by to_value or to_provider"]
pub struct Binder<'a, T> {
    container: &'a Container,
    key: BindingKey<T>,
}

impl<T> Binder<'_, T>
where
    T: Clone + Send + Sync + 'static,
{
    /// Binds a value; `get` returns clones of it.
    pub fn to_value(self, value: T) {
        self.container.insert(
            self.key.as_str(),
            Binding::Value {
                value: Arc::new(value),
                type_name: type_name::<T>(),
            },
        );
    }

    /// Binds a provider, run on every `get` with the container (so it can
    /// read other bindings). Return an `Arc` or a cheap handle from it to
    /// share one instance.
    pub fn to_provider<F>(self, provider: F)
    where
        F: Fn(&Container) -> T + Send + Sync + 'static,
    {
        self.to_try_provider(move |container| {
            Ok::<T, std::convert::Infallible>(provider(container))
        });
    }

    /// Binds a provider that may fail; its error is returned by `get` as
    /// [`ContainerError::Provider`] naming the key.
    pub fn to_try_provider<F, E>(self, provider: F)
    where
        F: Fn(&Container) -> Result<T, E> + Send + Sync + 'static,
        E: fmt::Display,
    {
        let key = self.key.as_str();
        let provider: AnyProvider = Arc::new(move |container: &Container| {
            provider(container)
                .map(|value| Arc::new(value) as AnyValue)
                .map_err(|error| ContainerError::Provider {
                    key: key.to_owned(),
                    message: error.to_string(),
                })
        });
        self.container.insert(
            key,
            Binding::Provider {
                provider,
                type_name: type_name::<T>(),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    const NAME: BindingKey<String> = BindingKey::new("@test/name");
    const COUNT: BindingKey<u32> = BindingKey::new("@test/count");
    const NAME_AS_NUMBER: BindingKey<u32> = BindingKey::new("@test/name");
    const LOOP_A: BindingKey<u32> = BindingKey::new("@test/loop-a");
    const LOOP_B: BindingKey<u32> = BindingKey::new("@test/loop-b");

    #[test]
    fn get_unbound_key_names_the_key() {
        let container = Container::new();
        let error = container.get(&NAME).unwrap_err();
        assert_eq!(error.to_string(), "Binding key: @test/name is not bound");
        assert_eq!(container.get_optional(&NAME).unwrap(), None);
        assert!(!container.is_bound(&NAME));
    }

    #[test]
    fn to_value_is_returned_and_rebinding_replaces_it() {
        let container = Container::new();
        container.bind(&NAME).to_value("a".into());
        assert_eq!(container.get(&NAME).unwrap(), "a");
        container.bind(&NAME).to_value("b".into());
        assert_eq!(container.get(&NAME).unwrap(), "b");
        assert!(container.is_bound(&NAME));
        assert_eq!(container.keys(), vec!["@test/name"]);
    }

    #[test]
    fn provider_reads_other_bindings_on_each_get() {
        let container = Container::new();
        container.bind(&COUNT).to_value(2);
        container
            .bind(&NAME)
            .to_provider(|c| format!("count={}", c.get(&COUNT).unwrap_or(0)));
        assert_eq!(container.get(&NAME).unwrap(), "count=2");
        container.bind(&COUNT).to_value(3);
        assert_eq!(container.get(&NAME).unwrap(), "count=3");
    }

    #[test]
    fn failing_provider_error_names_the_key() {
        let container = Container::new();
        container
            .bind(&COUNT)
            .to_try_provider(|_| Err::<u32, _>("no database"));
        let error = container.get(&COUNT).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Binding key: @test/count: provider failed: no database"
        );
    }

    #[test]
    fn same_string_with_another_type_is_a_type_mismatch_not_a_panic() {
        let container = Container::new();
        container.bind(&NAME).to_value("x".into());
        let error = container.get(&NAME_AS_NUMBER).unwrap_err();
        assert!(
            matches!(error, ContainerError::TypeMismatch { .. }),
            "{error}"
        );
        assert!(error.to_string().contains("@test/name"));
    }

    #[test]
    fn provider_cycle_is_an_error() {
        let container = Container::new();
        container.bind(&LOOP_A).to_try_provider(|c| c.get(&LOOP_B));
        container.bind(&LOOP_B).to_try_provider(|c| c.get(&LOOP_A));
        let error = container.get(&LOOP_A).unwrap_err();
        assert!(error.to_string().contains("depends on itself"), "{error}");
        // The stack is clean afterwards: an unrelated get works.
        container.bind(&COUNT).to_value(1);
        assert_eq!(container.get(&COUNT).unwrap(), 1);
    }

    #[test]
    fn bind_default_never_replaces_an_existing_binding() {
        let container = Container::new();
        container.bind(&COUNT).to_value(7);
        assert!(!container.bind_default(&COUNT, 1));
        assert_eq!(container.get(&COUNT).unwrap(), 7);
        assert!(container.bind_default(&NAME, "d".into()));
        assert_eq!(container.get(&NAME).unwrap(), "d");
    }

    #[test]
    fn unbind_removes_the_binding() {
        let container = Container::new();
        container.bind(&COUNT).to_value(1);
        assert!(container.unbind(&COUNT));
        assert!(!container.unbind(&COUNT));
        assert!(container.get(&COUNT).is_err());
    }
}
