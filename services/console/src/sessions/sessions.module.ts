import { Module } from '@nestjs/common';
import { DevTokenIssuer } from './dev-token.issuer';
import { OidcSignInService } from './oidc-sign-in.service';
import { MongoSessionRepository } from './sessions.mongo-repository';
import { SESSION_REPOSITORY } from './sessions.repository.port';
import { SessionsService } from './sessions.service';
import { TOKEN_ISSUER } from './token-issuer.port';

/** Who is signed in: sessions held server-side, behind an HttpOnly cookie. */
@Module({
  providers: [
    { provide: SESSION_REPOSITORY, useClass: MongoSessionRepository },
    { provide: TOKEN_ISSUER, useClass: DevTokenIssuer },
    SessionsService,
    OidcSignInService,
  ],
  exports: [SessionsService, OidcSignInService],
})
export class SessionsModule {}
