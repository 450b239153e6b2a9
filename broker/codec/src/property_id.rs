//! Property identifiers (table 2-4 of MQTT 5.0): the names errors and properties share.

use std::fmt;

use crate::property_table::property_table;

macro_rules! property_ids {
    ($($name:ident = $id:literal, $kind:ident($ty:ty), $text:literal, $section:literal;)*) => {
        /// A property identifier (table 2-4 of MQTT 5.0).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum PropertyId {
            $(
                #[doc = $text]
                $name = $id,
            )*
        }

        impl PropertyId {
            /// Every property, in identifier order.
            pub const ALL: &'static [PropertyId] = &[$(PropertyId::$name),*];

            /// The property an identifier designates, if any.
            pub fn from_u32(id: u32) -> Option<PropertyId> {
                match id {
                    $($id => Some(PropertyId::$name),)*
                    _ => None,
                }
            }

            /// The property's name as the specification writes it.
            pub fn name(self) -> &'static str {
                match self {
                    $(PropertyId::$name => $text,)*
                }
            }

            /// The section of MQTT 5.0 that first defines the property and its valid values.
            pub fn section(self) -> &'static str {
                match self {
                    $(PropertyId::$name => $section,)*
                }
            }
        }

    };
}

property_table!(property_ids);

impl fmt::Display for PropertyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (0x{:02X})", self.name(), *self as u8)
    }
}

impl PropertyId {
    pub(crate) fn bit(self) -> u64 {
        1u64 << (self as u8)
    }
}
