//! `tally`: the module valkey-bdd's own features test, the way a module
//! author's features would test theirs.
//!
//! - A data type, `tally-bdd`: counts per item under one key, saved to and
//!   loaded from RDB (so `DUMP`/`RESTORE` and restarts keep it), rewritten
//!   into the AOF as `TALLY.ADD` commands, and digested for `DEBUG DIGEST`.
//! - `TALLY.ADD key item [n]` (write, replicated verbatim, emits the
//!   keyspace event `tally.add`), `TALLY.GET key item`, `TALLY.TOTAL key`
//!   (read-only), `TALLY.DEL key item` (write, replicated verbatim; returns
//!   1 if the item was counted, else 0). All four are in the ACL category
//!   `tally`. `TALLY.DEL` is declared in upper case, as many modules declare
//!   theirs (`BF.ADD`): the server keeps that case in `INFO commandstats`.
//! - `TALLY.DEBUG-LEAK n` leaks `n` bytes on purpose: valkey-bdd's test of
//!   its memory checker (`VALKEY_BDD_WRAPPER=valgrind`) needs a real leak.
//! - Loaded with `step <n>`: the amount `TALLY.ADD` adds when no `n` is
//!   given (default 1). A `step` that is not a positive integer makes the
//!   load fail, and with it the server's start.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::os::raw::{c_int, c_void};
use std::sync::atomic::{AtomicI64, Ordering};

use valkey_module::digest::Digest;
use valkey_module::logging::ValkeyLogLevel;
use valkey_module::native_types::ValkeyType;
use valkey_module::{
    Context, NextArg, NotifyEvent, RedisModuleIO, RedisModuleString, Status, ValkeyError,
    ValkeyResult, ValkeyString, ValkeyValue, raw, valkey_module,
};

/// The RDB encoding version of the type.
const ENCODING_VERSION: i32 = 1;

/// What `TALLY.ADD` adds by default (`step` module argument).
static STEP: AtomicI64 = AtomicI64::new(1);

/// Counts per item.
#[derive(Debug, Default)]
struct Tally {
    counts: BTreeMap<Vec<u8>, i64>,
}

static TALLY_TYPE: ValkeyType = ValkeyType::new(
    "tally-bdd",
    ENCODING_VERSION,
    raw::RedisModuleTypeMethods {
        version: raw::REDISMODULE_TYPE_METHOD_VERSION as u64,
        rdb_load: Some(rdb_load),
        rdb_save: Some(rdb_save),
        aof_rewrite: Some(aof_rewrite),
        free: Some(free),
        digest: Some(digest),
        mem_usage: None,
        aux_load: None,
        aux_save: None,
        aux_save2: None,
        aux_save_triggers: 0,
        free_effort: None,
        unlink: None,
        copy: None,
        defrag: None,
        copy2: None,
        free_effort2: None,
        mem_usage2: None,
        unlink2: None,
    },
);

unsafe extern "C" fn free(value: *mut c_void) {
    // SAFETY: the server hands back the pointer `set_value` boxed.
    drop(unsafe { Box::from_raw(value.cast::<Tally>()) });
}

unsafe extern "C" fn rdb_save(rdb: *mut RedisModuleIO, value: *mut c_void) {
    // SAFETY: a value of this type is always a `Tally`.
    let tally = unsafe { &*value.cast::<Tally>() };
    raw::save_unsigned(rdb, tally.counts.len() as u64);
    for (item, count) in &tally.counts {
        raw::save_slice(rdb, item);
        raw::save_signed(rdb, *count);
    }
}

unsafe extern "C" fn rdb_load(rdb: *mut RedisModuleIO, encver: c_int) -> *mut c_void {
    if encver != ENCODING_VERSION {
        return std::ptr::null_mut();
    }
    let load = || -> Result<Tally, valkey_module::error::Error> {
        let n = raw::load_unsigned(rdb)?;
        let mut counts = BTreeMap::new();
        for _ in 0..n {
            let item = raw::load_string_buffer(rdb)?.as_ref().to_vec();
            let count = raw::load_signed(rdb)?;
            counts.insert(item, count);
        }
        Ok(Tally { counts })
    };
    match load() {
        Ok(t) => Box::into_raw(Box::new(t)).cast::<c_void>(),
        Err(_) => std::ptr::null_mut(),
    }
}

unsafe extern "C" fn aof_rewrite(
    aof: *mut RedisModuleIO,
    key: *mut RedisModuleString,
    value: *mut c_void,
) {
    // SAFETY: a value of this type is always a `Tally`.
    let tally = unsafe { &*value.cast::<Tally>() };
    let cmd = CString::new("TALLY.ADD").expect("no NUL");
    let fmt = CString::new("sbl").expect("no NUL");
    let Some(emit) = (unsafe { raw::RedisModule_EmitAOF }) else {
        return;
    };
    for (item, count) in &tally.counts {
        // SAFETY: "sbl" is a module string, a buffer with its length, and
        // a long long, given in that order.
        unsafe {
            emit(
                aof,
                cmd.as_ptr(),
                fmt.as_ptr(),
                key,
                item.as_ptr(),
                item.len(),
                *count as std::os::raw::c_longlong,
            )
        };
    }
}

unsafe extern "C" fn digest(md: *mut raw::RedisModuleDigest, value: *mut c_void) {
    // SAFETY: a value of this type is always a `Tally`.
    let tally = unsafe { &*value.cast::<Tally>() };
    let mut dig = Digest::new(md);
    for (item, count) in &tally.counts {
        dig.add_string_buffer(item);
        dig.add_long_long(*count);
    }
    dig.end_sequence();
}

fn tally_add(ctx: &Context, args: Vec<ValkeyString>) -> ValkeyResult {
    if args.len() < 3 || args.len() > 4 {
        return Err(ValkeyError::WrongArity);
    }
    let mut args = args.into_iter().skip(1);
    let key_name = args.next_arg()?;
    let item = args.next_arg()?;
    let n = match args.next() {
        Some(n) => n
            .parse_integer()
            .map_err(|_| ValkeyError::Str("ERR the amount is not an integer"))?,
        None => STEP.load(Ordering::Relaxed),
    };
    let key = ctx.open_key_writable(&key_name);
    let total = match key.get_value::<Tally>(&TALLY_TYPE)? {
        Some(tally) => {
            let c = tally.counts.entry(item.as_slice().to_vec()).or_default();
            *c += n;
            *c
        }
        None => {
            let mut tally = Tally::default();
            tally.counts.insert(item.as_slice().to_vec(), n);
            key.set_value(&TALLY_TYPE, tally)?;
            n
        }
    };
    ctx.replicate_verbatim();
    ctx.notify_keyspace_event(NotifyEvent::MODULE, "tally.add", &key_name);
    Ok(ValkeyValue::Integer(total))
}

fn tally_del(ctx: &Context, args: Vec<ValkeyString>) -> ValkeyResult {
    if args.len() != 3 {
        return Err(ValkeyError::WrongArity);
    }
    let mut args = args.into_iter().skip(1);
    let key_name = args.next_arg()?;
    let item = args.next_arg()?;
    let key = ctx.open_key_writable(&key_name);
    let removed = match key.get_value::<Tally>(&TALLY_TYPE)? {
        Some(tally) => tally.counts.remove(item.as_slice()).is_some(),
        None => false,
    };
    ctx.replicate_verbatim();
    Ok(ValkeyValue::Integer(i64::from(removed)))
}

fn tally_get(ctx: &Context, args: Vec<ValkeyString>) -> ValkeyResult {
    if args.len() != 3 {
        return Err(ValkeyError::WrongArity);
    }
    let mut args = args.into_iter().skip(1);
    let key_name = args.next_arg()?;
    let item = args.next_arg()?;
    let key = ctx.open_key(&key_name);
    let count = key
        .get_value::<Tally>(&TALLY_TYPE)?
        .and_then(|t| t.counts.get(item.as_slice()).copied())
        .unwrap_or(0);
    Ok(ValkeyValue::Integer(count))
}

fn tally_total(ctx: &Context, args: Vec<ValkeyString>) -> ValkeyResult {
    if args.len() != 2 {
        return Err(ValkeyError::WrongArity);
    }
    let key = ctx.open_key(&args[1]);
    let total = key
        .get_value::<Tally>(&TALLY_TYPE)?
        .map_or(0, |t| t.counts.values().sum());
    Ok(ValkeyValue::Integer(total))
}

fn tally_debug_leak(_ctx: &Context, args: Vec<ValkeyString>) -> ValkeyResult {
    if args.len() != 2 {
        return Err(ValkeyError::WrongArity);
    }
    let n = args[1]
        .parse_integer()
        .map_err(|_| ValkeyError::Str("ERR the size is not an integer"))?;
    // Allocated through the server's allocator, then forgotten: a definite
    // leak for the memory checker to find.
    std::mem::forget(vec![7u8; n.clamp(1, 1 << 20) as usize]);
    Ok(ValkeyValue::Integer(n))
}

fn init(ctx: &Context, args: &[ValkeyString]) -> Status {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let mut it = args.iter();
    while let Some(name) = it.next() {
        match (name.to_ascii_lowercase().as_str(), it.next()) {
            ("step", Some(v)) => match v.parse::<i64>() {
                Ok(n) if n > 0 => STEP.store(n, Ordering::Relaxed),
                _ => {
                    ctx.log(
                        ValkeyLogLevel::Warning,
                        &format!("tally: step must be a positive integer, not {v:?}"),
                    );
                    return Status::Err;
                }
            },
            (other, _) => {
                ctx.log(
                    ValkeyLogLevel::Warning,
                    &format!("tally: unknown argument {other:?} (the arguments are: step <n>)"),
                );
                return Status::Err;
            }
        }
    }
    ctx.log(
        ValkeyLogLevel::Notice,
        &format!("tally: loaded, step {}", STEP.load(Ordering::Relaxed)),
    );
    Status::Ok
}

valkey_module! {
    name: "tally",
    version: 1,
    allocator: (valkey_module::alloc::ValkeyAlloc, valkey_module::alloc::ValkeyAlloc),
    data_types: [
        TALLY_TYPE,
    ],
    init: init,
    acl_categories: [
        "tally"
    ]
    commands: [
        ["tally.add", tally_add, "write deny-oom", 1, 1, 1, "tally"],
        ["TALLY.DEL", tally_del, "write", 1, 1, 1, "tally"],
        ["tally.get", tally_get, "readonly", 1, 1, 1, "tally"],
        ["tally.total", tally_total, "readonly", 1, 1, 1, "tally"],
        ["tally.debug-leak", tally_debug_leak, "", 0, 0, 0, "tally"],
    ],
}
