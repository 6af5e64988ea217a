/* crc64.h */
