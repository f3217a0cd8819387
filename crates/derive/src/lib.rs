//! Derives that make one Rust declaration the GraphQL declaration too:
//! `#[derive(GqlEnum)]` (enum type, database text, rank, serde) and `#[derive(GqlInput)]`
//! (input object type from a serde struct). Descriptions come from the doc comments.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::{Attribute, Data, DeriveInput, Expr, Fields, Lit, Meta, parse_macro_input};

/// The doc comment of an item, lines joined with spaces.
fn doc(attrs: &[Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter_map(|a| match &a.meta {
            Meta::NameValue(nv) if nv.path.is_ident("doc") => match &nv.value {
                Expr::Lit(l) => match &l.lit {
                    Lit::Str(s) => Some(s.value().trim().to_owned()),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        })
        .collect();
    let text = lines.join(" ").trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// The value of `#[gql(key = "...")]`, if present.
fn gql_attr(attrs: &[Attribute], key: &str) -> syn::Result<Option<String>> {
    let mut found = None;
    for a in attrs.iter().filter(|a| a.path().is_ident("gql")) {
        a.parse_nested_meta(|m| {
            if m.path.is_ident(key) {
                let s: syn::LitStr = m.value()?.parse()?;
                found = Some(s.value());
            } else {
                let _: Option<syn::LitStr> = m.value().ok().map(|v| v.parse()).transpose()?;
            }
            Ok(())
        })?;
    }
    Ok(found)
}

fn screaming_snake(ident: &str) -> String {
    let mut out = String::new();
    for (i, c) in ident.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

fn camel(ident: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in ident.trim_start_matches("r#").chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A closed set of values declared once: `#[derive(GqlEnum)]` on a fieldless enum gives its
/// GraphQL enum type (descriptions from doc comments), its database text
/// (`SCREAMING_SNAKE_CASE` of the variant, or `#[gql(value = "...")]`), its rank (declaration
/// order, lowest first: orderings follow it), `parse`, `as_str`, serde, `Display`, and
/// comparison with the stored text (`task.status == TaskStatus::Blocked`).
#[proc_macro_derive(GqlEnum, attributes(gql))]
pub fn derive_gql_enum(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand_enum(&input).unwrap_or_else(syn::Error::into_compile_error).into()
}

fn expand_enum(input: &DeriveInput) -> syn::Result<Tokens> {
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new_spanned(input, "GqlEnum needs an enum"));
    };
    let ident = &input.ident;
    let name = gql_attr(&input.attrs, "name")?.unwrap_or_else(|| ident.to_string());
    let desc = doc(&input.attrs).ok_or_else(|| syn::Error::new_spanned(ident, "GqlEnum needs a doc comment"))?;
    let mut variants = Vec::new();
    let mut values = Vec::new();
    let mut docs = Vec::new();
    for v in &data.variants {
        if !matches!(v.fields, Fields::Unit) {
            return Err(syn::Error::new_spanned(v, "GqlEnum variants carry no data"));
        }
        let value = gql_attr(&v.attrs, "value")?.unwrap_or_else(|| screaming_snake(&v.ident.to_string()));
        docs.push(doc(&v.attrs).ok_or_else(|| syn::Error::new_spanned(v, "each value needs a doc comment"))?);
        variants.push(v.ident.clone());
        values.push(value);
    }
    let n = variants.len();
    let core = quote!(::opsgraph_core);
    let text = text_impls(ident, &name);
    Ok(quote! {
        impl #ident {
            /// Every value, in rank order (lowest first).
            pub const ALL: [Self; #n] = [#(Self::#variants),*];
            /// The database text of every value, in rank order.
            pub const VALUES: [&'static str; #n] = [#(#values),*];
            /// The database text (also the GraphQL value name).
            pub const fn as_str(self) -> &'static str {
                match self { #(Self::#variants => #values),* }
            }
            /// The value named `s`, if any.
            pub fn parse(s: &str) -> Option<Self> {
                match s { #(#values => Some(Self::#variants),)* _ => None }
            }
            /// Position in the declared order (0 = lowest).
            pub const fn rank(self) -> usize {
                self as usize
            }
        }
        impl #core::gql::GqlEnum for #ident {
            const NAME: &'static str = #name;
            const VALUES: &'static [&'static str] = &Self::VALUES;
            fn enum_type() -> ::async_graphql::dynamic::Enum {
                ::async_graphql::dynamic::Enum::new(#name).description(#desc)
                    #(.item(::async_graphql::dynamic::EnumItem::new(#values).description(#docs)))*
            }
            fn as_str(&self) -> &'static str {
                #ident::as_str(*self)
            }
            fn from_text(s: &str) -> Option<Self> {
                #ident::parse(s)
            }
        }
        #text
        impl #core::gql::InputType for #ident {
            fn type_ref() -> ::async_graphql::dynamic::TypeRef {
                ::async_graphql::dynamic::TypeRef::named_nn(#name)
            }
        }
    })
}

/// Comparison with the stored text, `Display` and serde as the text.
fn text_impls(ident: &syn::Ident, name: &str) -> Tokens {
    quote! {
        impl ::std::cmp::PartialEq<#ident> for ::std::string::String {
            fn eq(&self, other: &#ident) -> bool {
                self.as_str() == other.as_str()
            }
        }
        impl ::std::cmp::PartialEq<#ident> for str {
            fn eq(&self, other: &#ident) -> bool {
                self == other.as_str()
            }
        }
        impl ::std::cmp::PartialEq<#ident> for &str {
            fn eq(&self, other: &#ident) -> bool {
                *self == other.as_str()
            }
        }
        impl ::std::fmt::Display for #ident {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl ::serde::Serialize for #ident {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> ::serde::Deserialize<'de> for #ident {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                Self::parse(&s).ok_or_else(|| {
                    ::serde::de::Error::custom(format!("`{}` is not a {} (expected one of {})", s, #name, Self::VALUES.join(", ")))
                })
            }
        }
    }
}

/// An input declared once: `#[derive(GqlInput)]` on a `Deserialize` struct (camelCase
/// fields) gives its GraphQL input object; each field's type comes from its Rust type
/// ([`opsgraph_core::gql::InputType`]), descriptions from doc comments.
#[proc_macro_derive(GqlInput, attributes(gql))]
pub fn derive_gql_input(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand_input(&input).unwrap_or_else(syn::Error::into_compile_error).into()
}

fn expand_input(input: &DeriveInput) -> syn::Result<Tokens> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(input, "GqlInput needs a struct"));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new_spanned(input, "GqlInput needs named fields"));
    };
    let ident = &input.ident;
    let name = gql_attr(&input.attrs, "name")?.unwrap_or_else(|| ident.to_string());
    let desc = doc(&input.attrs).ok_or_else(|| syn::Error::new_spanned(ident, "GqlInput needs a doc comment"))?;
    let mut items = Vec::new();
    for f in &fields.named {
        let Some(fident) = &f.ident else { continue };
        let fname = gql_attr(&f.attrs, "name")?.unwrap_or_else(|| camel(&fident.to_string()));
        let fdoc = doc(&f.attrs).ok_or_else(|| syn::Error::new_spanned(f, "each field needs a doc comment"))?;
        let ty = &f.ty;
        items.push(quote! {
            .field(::async_graphql::dynamic::InputValue::new(
                #fname, <#ty as ::opsgraph_core::gql::InputType>::type_ref()).description(#fdoc))
        });
    }
    Ok(quote! {
        impl ::opsgraph_core::gql::GqlInput for #ident {
            const NAME: &'static str = #name;
            fn input_object() -> ::async_graphql::dynamic::InputObject {
                ::async_graphql::dynamic::InputObject::new(#name).description(#desc) #(#items)*
            }
        }
        impl ::opsgraph_core::gql::InputType for #ident {
            fn type_ref() -> ::async_graphql::dynamic::TypeRef {
                ::async_graphql::dynamic::TypeRef::named_nn(#name)
            }
        }
    })
}
