//! The `#[model]` attribute of nlsq.
//!
//! This crate is deliberately thin: parsing, differentiation, code generation and hashing all
//! live in `kernels-gen`; here the results are only wrapped into a `Model` implementation.

use kernels_gen::{Compiled, Precision};
use proc_macro::TokenStream;
use quote::{format_ident, quote};

/// Compiles a plain Rust function into an nlsq model.
///
/// The function stays callable as written. Next to it the macro defines a unit struct named
/// after the function in CamelCase (`fn gaussian` → `Gaussian`; override with
/// `#[model(name = MyName)]`) that implements `nlsq::Model`: parameter names, input arity,
/// value and exact symbolic gradient on the CPU, CUDA and WGSL kernel sources in f32 and f64
/// (fit and batch-fit modules),
/// and the content hash `HASH` that keys every kernel cache.
///
/// The first argument is the independent variable (`f64` or `[f64; K]`); every later argument
/// is a fitted parameter (`f64` or `[f64; M]`). See the nlsq crate documentation for the model
/// language; anything outside it is a compile error at the offending span.
///
/// `#[model(crate = path)]` names the nlsq crate when it is not reachable as `::nlsq`.
#[proc_macro_attribute]
pub fn model(attr: TokenStream, item: TokenStream) -> TokenStream {
    // syn parses recursively: bound the nesting (and the length) before it does, so that a
    // pathological body is an error rather than a stack overflow in the compiler.
    let tokens = proc_macro2::TokenStream::from(item.clone());
    if let Err(e) = kernels_gen::parse::check_tokens(&tokens) {
        let err = e.to_compile_error();
        return quote!(#tokens #err).into();
    }
    let item_fn = syn::parse_macro_input!(item as syn::ItemFn);
    let mut name: Option<syn::Ident> = None;
    let mut krate: syn::Path = syn::parse_quote!(::nlsq);
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("name") {
            name = Some(meta.value()?.parse()?);
            Ok(())
        } else if meta.path.is_ident("crate") {
            krate = meta.value()?.parse()?;
            Ok(())
        } else {
            Err(meta.error("unknown #[model] option; expected `name = Ident` or `crate = path`"))
        }
    });
    let parsed = syn::parse::Parser::parse(parser, attr);
    let expanded = parsed
        .and_then(|()| kernels_gen::parse::model_from_fn(&item_fn))
        .map(|ir| expand(&item_fn, ir, name, &krate));
    match expanded {
        Ok(tokens) => tokens.into(),
        Err(e) => {
            // Keep the function so callers do not drown in follow-up errors.
            let err = e.to_compile_error();
            quote!(#item_fn #err).into()
        }
    }
}

fn camel_case(s: &str) -> String {
    s.split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

fn expand(
    item_fn: &syn::ItemFn,
    ir: kernels_gen::ModelIr,
    name: Option<syn::Ident>,
    krate: &syn::Path,
) -> proc_macro2::TokenStream {
    let fn_name = item_fn.sig.ident.to_string();
    let ty = name.unwrap_or_else(|| {
        format_ident!("{}", camel_case(&fn_name), span = item_fn.sig.ident.span())
    });
    let vis = &item_fn.vis;
    let param_names = ir.param_names();
    let n_params = ir.n_params();
    let n_inputs = ir.n_inputs();
    let value_fn: proc_macro2::TokenStream = kernels_gen::emit::rust::value_fn(&ir, "value")
        .parse()
        .expect("the Rust emitter produces valid tokens");
    let grad_fn: proc_macro2::TokenStream =
        kernels_gen::emit::rust::value_and_gradient_fn(&ir, "value_and_gradient")
            .parse()
            .expect("the Rust emitter produces valid tokens");
    let block_path = quote!(#krate::block).to_string().replace(' ', "");
    let block_fn: proc_macro2::TokenStream = kernels_gen::emit::rust::value_and_gradient_block_fn(
        &ir,
        "value_and_gradient_block",
        &block_path,
    )
    .parse()
    .expect("the Rust block emitter produces valid tokens");
    let value_block_fn: proc_macro2::TokenStream =
        kernels_gen::emit::rust::value_block_fn(&ir, "value_block", &block_path)
            .parse()
            .expect("the Rust block emitter produces valid tokens");
    let roles = kernels_gen::roles::param_roles(&ir).into_iter().map(|r| {
        use kernels_gen::roles::Role;
        match r {
            Role::Linear => quote!(#krate::search::Role::Linear),
            Role::Location { input } => quote!(#krate::search::Role::Location { input: #input }),
            Role::Rate { input, power } => {
                quote!(#krate::search::Role::Rate { input: #input, power: #power })
            }
            Role::Other => quote!(#krate::search::Role::Other),
        }
    });
    let compiled = Compiled::new(ir);
    let hash = compiled.hash.0;
    let cuda32 = compiled.cuda_source(Precision::F32);
    let cuda64 = compiled.cuda_source(Precision::F64);
    let wgsl32 = compiled.wgsl_source(Precision::F32);
    let wgsl64 = compiled.wgsl_source(Precision::F64);
    let opt = |s: Option<&str>| match s {
        Some(s) => quote!(::core::option::Option::Some(#s)),
        None => quote!(::core::option::Option::None),
    };
    let cuda_batch32 = opt(compiled.cuda_batch_source(Precision::F32));
    let cuda_batch64 = opt(compiled.cuda_batch_source(Precision::F64));
    let wgsl_batch32 = opt(compiled.wgsl_batch_source(Precision::F32));
    let wgsl_batch64 = opt(compiled.wgsl_batch_source(Precision::F64));
    let op_count = compiled.op_count();
    let doc = format!(
        "The `{fn_name}` model, generated by `#[model]`: {n_params} parameter(s) ({}), {n_inputs} predictor(s), {op_count} operations for value and gradient.",
        param_names.join(", ")
    );
    quote! {
        // The model value is how the function is usually used; calling it stays optional.
        #[allow(dead_code)]
        #item_fn

        #[doc = #doc]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        #vis struct #ty;

        impl #ty {
            /// The model's name (the function's name).
            pub const NAME: &'static str = #fn_name;
            /// Flattened parameter names, in order.
            pub const PARAM_NAMES: &'static [&'static str] = &[#(#param_names),*];
            /// Number of flattened parameters.
            pub const N_PARAMS: usize = #n_params;
            /// Number of predictors.
            pub const N_INPUTS: usize = #n_inputs;
            /// Content hash of the model's kernels.
            pub const HASH: #krate::ModelHash = #krate::ModelHash([#(#hash),*]);
            /// The CUDA module, f32 evaluation.
            pub const CUDA_F32: &'static str = #cuda32;
            /// The CUDA module, f64 evaluation.
            pub const CUDA_F64: &'static str = #cuda64;
            /// The WGSL module, f32.
            pub const WGSL_F32: &'static str = #wgsl32;
            /// The WGSL module, f64.
            pub const WGSL_F64: &'static str = #wgsl64;
            /// The CUDA batch-fit module, f32 (`None` above the batch kernels' parameter limit).
            pub const CUDA_BATCH_F32: ::core::option::Option<&'static str> = #cuda_batch32;
            /// The CUDA batch-fit module, f64.
            pub const CUDA_BATCH_F64: ::core::option::Option<&'static str> = #cuda_batch64;
            /// The WGSL batch-fit module, f32.
            pub const WGSL_BATCH_F32: ::core::option::Option<&'static str> = #wgsl_batch32;
            /// The WGSL batch-fit module, f64.
            pub const WGSL_BATCH_F64: ::core::option::Option<&'static str> = #wgsl_batch64;
        }

        impl #krate::Model for #ty {
            fn name(&self) -> &str {
                Self::NAME
            }
            fn n_params(&self) -> usize {
                Self::N_PARAMS
            }
            fn n_inputs(&self) -> usize {
                Self::N_INPUTS
            }
            fn param_name(&self, j: usize) -> &str {
                Self::PARAM_NAMES[j]
            }
            #[inline]
            fn eval(&self, x: &[f64], p: &[f64]) -> f64 {
                #value_fn
                value(x, p)
            }
            #[inline]
            fn eval_with_gradient(&self, x: &[f64], p: &[f64], grad: &mut [f64]) -> f64 {
                #grad_fn
                value_and_gradient(x, p, grad)
            }
            #[inline(always)]
            fn eval_block(
                &self,
                x: &[&[f64; #krate::block::BLOCK]],
                p: &[f64],
                value: &mut [f64; #krate::block::BLOCK],
            ) {
                #value_block_fn
                value_block(x, p, value)
            }
            #[inline(always)]
            fn eval_with_gradient_block(
                &self,
                x: &[&[f64; #krate::block::BLOCK]],
                p: &[f64],
                value: &mut [f64; #krate::block::BLOCK],
                grad: &mut [[f64; #krate::block::BLOCK]],
            ) {
                #block_fn
                value_and_gradient_block(x, p, value, grad)
            }
            fn cuda_source(&self, precision: #krate::Precision) -> &str {
                match precision {
                    #krate::Precision::F32 => Self::CUDA_F32,
                    #krate::Precision::F64 => Self::CUDA_F64,
                }
            }
            fn wgsl_source(&self, precision: #krate::Precision) -> &str {
                match precision {
                    #krate::Precision::F32 => Self::WGSL_F32,
                    #krate::Precision::F64 => Self::WGSL_F64,
                }
            }
            fn cuda_batch_source(&self, precision: #krate::Precision) -> ::core::option::Option<&str> {
                match precision {
                    #krate::Precision::F32 => Self::CUDA_BATCH_F32,
                    #krate::Precision::F64 => Self::CUDA_BATCH_F64,
                }
            }
            fn wgsl_batch_source(&self, precision: #krate::Precision) -> ::core::option::Option<&str> {
                match precision {
                    #krate::Precision::F32 => Self::WGSL_BATCH_F32,
                    #krate::Precision::F64 => Self::WGSL_BATCH_F64,
                }
            }
            fn hash(&self) -> #krate::ModelHash {
                Self::HASH
            }
            fn param_roles(&self) -> ::core::option::Option<::std::vec::Vec<#krate::search::Role>> {
                ::core::option::Option::Some(::std::vec![#(#roles),*])
            }
        }
    }
}
