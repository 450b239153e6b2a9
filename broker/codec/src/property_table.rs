//! The table of MQTT 5.0 properties (table 2-4 of section 2.2.2.2): identifier, how the
//! value is encoded, name and defining section. It is written once and expanded twice: into
//! [`PropertyId`](crate::PropertyId) (`property_id`), which errors name, and into
//! [`Property`](crate::Property) with its codec (`properties`), which reports errors, so that
//! neither of those two modules needs the other's.

/// Calls macro `$then` with every row of the table.
macro_rules! property_table {
    ($then:ident) => {
        $then! {
            PayloadFormatIndicator = 0x01, Byte(u8), "Payload Format Indicator", "3.3.2.3.2";
            MessageExpiryInterval = 0x02, FourByte(u32), "Message Expiry Interval", "3.3.2.3.3";
            ContentType = 0x03, Utf8(ByteString), "Content Type", "3.3.2.3.9";
            ResponseTopic = 0x08, Utf8(ByteString), "Response Topic", "3.3.2.3.5";
            CorrelationData = 0x09, Binary(Bytes), "Correlation Data", "3.3.2.3.6";
            SubscriptionIdentifier = 0x0B, VarInt(u32), "Subscription Identifier", "3.8.2.1.2";
            SessionExpiryInterval = 0x11, FourByte(u32), "Session Expiry Interval", "3.1.2.11.2";
            AssignedClientIdentifier = 0x12, Utf8(ByteString), "Assigned Client Identifier", "3.2.2.3.7";
            ServerKeepAlive = 0x13, TwoByte(u16), "Server Keep Alive", "3.2.2.3.14";
            AuthenticationMethod = 0x15, Utf8(ByteString), "Authentication Method", "3.1.2.11.9";
            AuthenticationData = 0x16, Binary(Bytes), "Authentication Data", "3.1.2.11.10";
            RequestProblemInformation = 0x17, Byte(u8), "Request Problem Information", "3.1.2.11.7";
            WillDelayInterval = 0x18, FourByte(u32), "Will Delay Interval", "3.1.3.2.2";
            RequestResponseInformation = 0x19, Byte(u8), "Request Response Information", "3.1.2.11.6";
            ResponseInformation = 0x1A, Utf8(ByteString), "Response Information", "3.2.2.3.15";
            ServerReference = 0x1C, Utf8(ByteString), "Server Reference", "3.2.2.3.16";
            ReasonString = 0x1F, Utf8(ByteString), "Reason String", "3.2.2.3.9";
            ReceiveMaximum = 0x21, TwoByte(u16), "Receive Maximum", "3.1.2.11.3";
            TopicAliasMaximum = 0x22, TwoByte(u16), "Topic Alias Maximum", "3.1.2.11.5";
            TopicAlias = 0x23, TwoByte(u16), "Topic Alias", "3.3.2.3.4";
            MaximumQoS = 0x24, Byte(u8), "Maximum QoS", "3.2.2.3.4";
            RetainAvailable = 0x25, Byte(u8), "Retain Available", "3.2.2.3.5";
            UserProperty = 0x26, Utf8Pair((ByteString, ByteString)), "User Property", "3.1.2.11.8";
            MaximumPacketSize = 0x27, FourByte(u32), "Maximum Packet Size", "3.1.2.11.4";
            WildcardSubscriptionAvailable = 0x28, Byte(u8), "Wildcard Subscription Available", "3.2.2.3.11";
            SubscriptionIdentifierAvailable = 0x29, Byte(u8), "Subscription Identifier Available", "3.2.2.3.12";
            SharedSubscriptionAvailable = 0x2A, Byte(u8), "Shared Subscription Available", "3.2.2.3.13";
        }
    };
}

pub(crate) use property_table;
