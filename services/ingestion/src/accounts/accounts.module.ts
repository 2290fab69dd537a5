import { Module } from '@nestjs/common';
import { MongoAccountRepository } from './accounts.mongo-repository';
import { ACCOUNT_REPOSITORY } from './accounts.repository.port';

const repositories = [
  MongoAccountRepository,
  { provide: ACCOUNT_REPOSITORY, useExisting: MongoAccountRepository },
];

/** Accounts (B2B) from group calls, in ingestion's own collection. */
@Module({ providers: [...repositories], exports: [ACCOUNT_REPOSITORY] })
export class AccountsModule {}
