//! A sequential MLP and its training step over caller-provided buffers.
//!
//! Contract: NUMERICS.md §6–§9 and §13. The caller owns every buffer (`Vec`s in the harness, static
//! arrays in firmware); [`Trainer::sizes`] says how large each must be. Nothing here
//! allocates.
//!
//! ```
//! use rand_core::SeedableRng;
//! use samebits::{arith::Float, exec::Sequential, layers::Activation, model::*, optim::*, rng::Xoshiro128PlusPlus};
//!
//! // Four samples of two features, two classes.
//! let x = [0.0, 1.0, 1.0, 0.0, 0.5, 0.5, -1.0, 0.25];
//! let y = [0, 1, 1, 0];
//! let spec: MlpSpec = MlpSpec::new(2, &[8], 2, Activation::Tanh)?;
//! let optimizer = Optimizer::Sgd(Sgd { lr: 0.1, momentum: 0.9, weight_decay: 0.0 });
//! let sizes = Trainer::<Float>::sizes(&spec, &optimizer, 4);
//! let (mut p, mut g, mut o) = (vec![0.0; sizes.params], vec![0.0; sizes.grads], vec![0.0; sizes.opt_state]);
//! let (mut a, mut d, mut c) = (vec![0.0; sizes.act_scratch], vec![0.0; sizes.param_scratch], vec![0.0; sizes.acc_scratch]);
//! let mut ops = vec![0.0; sizes.operand_scratch];
//! let bufs = Buffers { params: &mut p, grads: &mut g, opt_state: &mut o, act_scratch: &mut a, param_scratch: &mut d, acc_scratch: &mut c, operand_scratch: &mut ops };
//! let mut trainer = Trainer::<Float>::new(spec, optimizer, 4, bufs)?;
//! trainer.init_params(Init::GlorotUniform, &mut Xoshiro128PlusPlus::seed_from_u64(42));
//! let loss = trainer.train_step(&Sequential, &Batch { features: &x, labels: &y, indices: &[0, 1, 2, 3] })?;
//! assert!(loss > 0.0);
//! println!("{}", trainer.digest()); // 64 hex digits, the same on every platform
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod init;
mod layout;
mod observe;
mod spec;
mod trainer;

pub use error::{NonFinite, SetupError, Tensor};
pub use init::Init;
pub use layout::BufferSizes;
pub use observe::{NoObserver, Op, StepObserver};
pub use spec::{LayerSpec, MlpSpec, DEFAULT_MAX_LAYERS};
pub use trainer::{Batch, Buffers, Trainer, TrainerState};
