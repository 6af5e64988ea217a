/* crc64.c */
