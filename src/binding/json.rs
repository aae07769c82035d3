//! JSON values handed to JavaScript as `JSON.parse` builds them.

use napi::bindgen_prelude::*;
use serde_json::Value;

/// A JSON value handed to JavaScript as `JSON.parse` builds it: objects get
/// own data properties, so a `"__proto__"` key (from a token payload or a
/// Crossmint answer) is an ordinary property and never sets the prototype,
/// as assigning it would.
pub struct Json(pub Value);

impl TypeName for Json {
    fn type_name() -> &'static str {
        "any"
    }

    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl ToNapiValue for Json {
    unsafe fn to_napi_value(env: sys::napi_env, json: Self) -> Result<sys::napi_value> {
        unsafe { json_to_js(env, json.0) }
    }
}

const OWN_DATA_PROPERTY: sys::napi_property_attributes =
    sys::PropertyAttributes::writable | sys::PropertyAttributes::enumerable | sys::PropertyAttributes::configurable;

/// Depth is bounded by serde_json's parser (128 levels), so recursion is safe.
unsafe fn json_to_js(env: sys::napi_env, value: Value) -> Result<sys::napi_value> {
    match value {
        Value::Object(map) => {
            let mut object = std::ptr::null_mut();
            check_status!(unsafe { sys::napi_create_object(env, &mut object) })?;
            let mut properties = Vec::with_capacity(map.len());
            for (key, item) in map {
                let mut name = std::ptr::null_mut();
                check_status!(unsafe {
                    sys::napi_create_string_utf8(env, key.as_ptr().cast(), key.len() as isize, &mut name)
                })?;
                properties.push(sys::napi_property_descriptor {
                    utf8name: std::ptr::null(),
                    name,
                    method: None,
                    getter: None,
                    setter: None,
                    value: unsafe { json_to_js(env, item) }?,
                    attributes: OWN_DATA_PROPERTY,
                    data: std::ptr::null_mut(),
                });
            }
            check_status!(unsafe { sys::napi_define_properties(env, object, properties.len(), properties.as_ptr()) })?;
            Ok(object)
        }
        Value::Array(items) => {
            let mut array = std::ptr::null_mut();
            check_status!(unsafe { sys::napi_create_array_with_length(env, items.len(), &mut array) })?;
            for (index, item) in items.into_iter().enumerate() {
                let element = unsafe { json_to_js(env, item) }?;
                check_status!(unsafe { sys::napi_set_element(env, array, index as u32, element) })?;
            }
            Ok(array)
        }
        scalar => unsafe { Value::to_napi_value(env, scalar) },
    }
}
