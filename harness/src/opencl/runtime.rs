//! The OpenCL runtime: finding and checking devices, building programs, moving buffers and
//! running kernels. Every `unsafe` call into OpenCL of the harness is in this file.
//!
//! The OpenCL library is loaded at run time (`opencl3`'s `dynamic` feature), so the same binary
//! runs on machines without it and says so; `OPENCL_DYLIB_PATH` (`;`-separated) names other
//! library files to try first.

use opencl3::command_queue::CommandQueue;
use opencl3::context::Context;
use opencl3::device::{Device, CL_DEVICE_TYPE_ALL, CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT, CL_FP_DENORM};
use opencl3::error_codes::{DLOPEN_FUNCTION_NOT_AVAILABLE, DLOPEN_RUNTIME_LOAD_FAILED};
use opencl3::kernel::{ExecuteKernel, Kernel};
use opencl3::memory::{Buffer, ClMem, CL_MEM_READ_WRITE};
use opencl3::platform::get_platforms;
use opencl3::program::Program;
use opencl3::types::{cl_mem, CL_BLOCKING};

pub use super::common::{DeviceInfo, OpenClError, Result};

fn call(what: &'static str) -> impl FnOnce(opencl3::error_codes::ClError) -> OpenClError {
    move |e| OpenClError::Call { what, code: e.0 }
}

/// All devices of all platforms, in platform order.
pub fn list_devices() -> Result<Vec<(DeviceInfo, Device)>> {
    // The ICD loader's first platform query is not safe to race (ocl-icd answered "no
    // platform" to the second of two concurrent first calls), so enumeration is serialised.
    static ENUMERATION: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = ENUMERATION.lock().unwrap_or_else(|e| e.into_inner());
    // ocl-icd reports "no platforms" as CL_PLATFORM_NOT_FOUND_KHR (-1001).
    let platforms = match get_platforms() {
        Ok(p) => p,
        Err(e) if e.0 == DLOPEN_RUNTIME_LOAD_FAILED || e.0 == DLOPEN_FUNCTION_NOT_AVAILABLE => {
            return Err(OpenClError::NoLibrary)
        }
        Err(e) if e.0 == -1001 => Vec::new(),
        Err(e) => return Err(call("clGetPlatformIDs")(e)),
    };
    let mut out = Vec::new();
    for platform in platforms {
        let platform_name = platform.name().unwrap_or_default();
        // A platform without devices answers CL_DEVICE_NOT_FOUND (-1).
        let ids = platform.get_devices(CL_DEVICE_TYPE_ALL).unwrap_or_default();
        for id in ids {
            let device = Device::new(id);
            let fp = device.single_fp_config().map_err(call("clGetDeviceInfo"))?;
            let info = DeviceInfo {
                index: out.len(),
                platform: platform_name.clone(),
                name: device.name().unwrap_or_default().trim().to_string(),
                vendor: device.vendor().unwrap_or_default().trim().to_string(),
                version: device.version().unwrap_or_default().trim().to_string(),
                driver: device.driver_version().unwrap_or_default().trim().to_string(),
                compute_units: device.max_compute_units().unwrap_or(0),
                denormals: fp & CL_FP_DENORM != 0,
                correctly_rounded_divide_sqrt: fp & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT != 0,
            };
            out.push((info, device));
        }
    }
    Ok(out)
}

/// One checked device with a context and an in-order queue.
pub struct Gpu {
    info: DeviceInfo,
    device: Device,
    context: Context,
    queue: CommandQueue,
}

/// A device buffer of `T` (plain numbers only: `f32`, `i32`, `u32`, `i64`, `i16`).
pub struct DeviceBuffer<T> {
    buffer: Buffer<T>,
    len: usize,
}

impl<T> DeviceBuffer<T> {
    /// Elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds no element.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn mem(&self) -> cl_mem {
        self.buffer.get()
    }
}

/// A kernel argument.
pub enum Arg<'a> {
    /// A device buffer.
    Mem(cl_mem, std::marker::PhantomData<&'a ()>),
    U32(u32),
    I32(i32),
    F32(f32),
    I64(i64),
}

impl<'a, T> From<&'a DeviceBuffer<T>> for Arg<'a> {
    fn from(b: &'a DeviceBuffer<T>) -> Self {
        Arg::Mem(b.mem(), std::marker::PhantomData)
    }
}

impl From<u32> for Arg<'_> {
    fn from(v: u32) -> Self {
        Arg::U32(v)
    }
}

impl From<i32> for Arg<'_> {
    fn from(v: i32) -> Self {
        Arg::I32(v)
    }
}

impl From<f32> for Arg<'_> {
    fn from(v: f32) -> Self {
        Arg::F32(v)
    }
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::I64(v)
    }
}

/// Marker for element types a device buffer may hold.
pub trait Element: Copy + Default + 'static {}
impl Element for f32 {}
impl Element for i32 {}
impl Element for u32 {}
impl Element for i64 {}
impl Element for i16 {}

/// A built program and its kernels, looked up by name.
pub struct Built {
    program: Program,
}

impl Built {
    /// The kernel `name`.
    pub fn kernel(&self, name: &str) -> Result<Kernel> {
        Kernel::create(&self.program, name).map_err(call("clCreateKernel"))
    }
}

impl Gpu {
    /// Opens device `index` (of [`list_devices`]), or the first suitable one, after checking it.
    pub fn open(index: Option<usize>) -> Result<Self> {
        let devices = list_devices()?;
        if devices.is_empty() {
            return Err(OpenClError::NoDevice);
        }
        let (info, device) = match index {
            Some(i) => devices.get(i).cloned().ok_or(OpenClError::NoSuchDevice { index: i, count: devices.len() })?,
            None => match devices.iter().find(|(info, _)| info.missing().is_none()) {
                Some(d) => d.clone(),
                // None suitable: report the first one's shortcomings.
                None => devices[0].clone(),
            },
        };
        if let Some(missing) = info.missing() {
            return Err(OpenClError::Unsuitable { device: info.label(), missing });
        }
        let context = Context::from_device(&device).map_err(call("clCreateContext"))?;
        // An in-order queue: every kernel sees the results of the ones enqueued before it.
        #[allow(deprecated)]
        let queue = CommandQueue::create_default(&context, 0).map_err(call("clCreateCommandQueue"))?;
        Ok(Self { info, device, context, queue })
    }

    /// The device's description.
    pub fn info(&self) -> &DeviceInfo {
        &self.info
    }

    /// Builds `sources` (concatenated in order) with `samebits_gpu_kernels::BUILD_OPTIONS`.
    pub fn build(&self, sources: &[&str]) -> Result<Built> {
        // One string: OpenCL concatenates several sources anyway, and cl3 0.13's
        // `create_program_with_source` passes a `&[&str]` as if it were C string pointers (a
        // crash with more than one).
        let source = sources.concat();
        let mut program =
            Program::create_from_source(&self.context, &source).map_err(call("clCreateProgramWithSource"))?;
        if program.build(&[self.device.id()], samebits_gpu_kernels::BUILD_OPTIONS).is_err() {
            let log = program.get_build_log(self.device.id()).unwrap_or_default();
            return Err(OpenClError::Build { device: self.info.label(), log });
        }
        Ok(Built { program })
    }

    /// A device buffer of `len` elements, zeroed.
    pub fn buffer<T: Element>(&self, len: usize) -> Result<DeviceBuffer<T>> {
        let len_alloc = len.max(1);
        // SAFETY: no host pointer is passed; the buffer is sized in elements of T.
        let buffer = unsafe {
            Buffer::<T>::create(&self.context, CL_MEM_READ_WRITE, len_alloc, std::ptr::null_mut())
                .map_err(call("clCreateBuffer"))?
        };
        let mut b = DeviceBuffer { buffer, len };
        self.write(&mut b, 0, &vec![T::default(); len_alloc][..len])?;
        Ok(b)
    }

    /// A device buffer holding a copy of `data`.
    pub fn upload<T: Element>(&self, data: &[T]) -> Result<DeviceBuffer<T>> {
        let mut b = self.buffer(data.len())?;
        self.write(&mut b, 0, data)?;
        Ok(b)
    }

    /// Copies `data` into `b` from element `offset` on (blocking).
    pub fn write<T: Element>(&self, b: &mut DeviceBuffer<T>, offset: usize, data: &[T]) -> Result<()> {
        assert!(offset + data.len() <= b.len.max(1), "write past the end of a device buffer");
        if data.is_empty() {
            return Ok(());
        }
        // SAFETY: the write is blocking, so `data` outlives it; bounds checked above.
        unsafe {
            self.queue
                .enqueue_write_buffer(&mut b.buffer, CL_BLOCKING, offset * size_of::<T>(), data, &[])
                .map_err(call("clEnqueueWriteBuffer"))?;
        }
        Ok(())
    }

    /// Copies `b[offset..offset + out.len()]` into `out` (blocking, after every queued kernel).
    pub fn read<T: Element>(&self, b: &DeviceBuffer<T>, offset: usize, out: &mut [T]) -> Result<()> {
        assert!(offset + out.len() <= b.len, "read past the end of a device buffer");
        if out.is_empty() {
            return Ok(());
        }
        // SAFETY: the read is blocking, so `out` outlives it; bounds checked above.
        unsafe {
            self.queue
                .enqueue_read_buffer(&b.buffer, CL_BLOCKING, offset * size_of::<T>(), out, &[])
                .map_err(call("clEnqueueReadBuffer"))?;
        }
        Ok(())
    }

    /// All of `b`.
    pub fn download<T: Element>(&self, b: &DeviceBuffer<T>) -> Result<Vec<T>> {
        let mut out = vec![T::default(); b.len];
        self.read(b, 0, &mut out)?;
        Ok(out)
    }

    /// Enqueues `kernel` over `global` work items (one dimension) with `args`, in order.
    pub fn run(&self, kernel: &Kernel, global: usize, args: &[Arg<'_>]) -> Result<()> {
        if global == 0 {
            return Ok(());
        }
        let mut exec = ExecuteKernel::new(kernel);
        // SAFETY: each argument is a plain number or a live buffer handle of this context;
        // the kernels index buffers only below the sizes the callers pass with them.
        unsafe {
            for arg in args {
                match arg {
                    Arg::Mem(m, _) => exec.set_arg(m),
                    Arg::U32(v) => exec.set_arg(v),
                    Arg::I32(v) => exec.set_arg(v),
                    Arg::F32(v) => exec.set_arg(v),
                    Arg::I64(v) => exec.set_arg(v),
                };
            }
            exec.set_global_work_size(global).enqueue_nd_range(&self.queue).map_err(call("clEnqueueNDRangeKernel"))?;
        }
        Ok(())
    }

    /// Waits for every queued command.
    pub fn finish(&self) -> Result<()> {
        self.queue.finish().map_err(call("clFinish"))
    }

    /// Runs an element-wise test kernel `name(global const I* in, global O* out, uint n)` over
    /// `input` and returns `out`: how math twins are compared with their Rust functions.
    pub fn map<I: Element, O: Element>(&self, built: &Built, name: &str, input: &[I]) -> Result<Vec<O>> {
        let kernel = built.kernel(name)?;
        let inb = self.upload(input)?;
        let outb = self.buffer::<O>(input.len())?;
        self.run(&kernel, input.len(), &[(&inb).into(), (&outb).into(), (input.len() as u32).into()])?;
        self.download(&outb)
    }
}
